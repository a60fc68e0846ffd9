"""Campaigns on the web: the list of a member's campaigns and a campaign's dashboard, for both
parties and platform admins (anyone else gets a 404, so a campaign's existence is never
revealed). Figures come from ``exchange.selectors.campaign_metrics`` (the rollups); the charts
are drawn in the browser by Apache ECharts from data placed with ``json_script``
(frontend/static/frontend/campaign_dashboard.js — the Content-Security-Policy forbids inline
scripts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from exchange import selectors
from exchange.ledger import selectors as ledger_selectors
from exchange.models import Campaign, CampaignLeg
from exchange.services import settlements as settlement_services
from exchange.states import CampaignState
from frontend.views.common import actor_of
from frontend.views.proposal_common import ui_language
from huiliu import formatting
from partners.actors import Actor
from partners.models import Brand

PAGE_SIZE = 20
# The product's colours (huiliu.css: --brand, --accent, --info, --brand-2, --ink-2).
COLOURS = {"clicks": "#0f766e", "unique_visitors": "#14b8a6", "new_members": "#f59e0b", "conversions": "#1d4ed8"}
PROMISED_COLOUR = "#c5cddb"
CHARTED = ("clicks", "unique_visitors", "new_members", "conversions")


def _viewer_brand(actor: Actor, campaign: Campaign) -> Brand | None:
    """The caller's side of the campaign (brand A first for a member of both); None for staff."""
    for brand in (campaign.brand_a, campaign.brand_b):
        if brand.pk in actor.brand_ids:
            return brand
    return None


def _last_day(campaign: Campaign):
    return campaign.ends_at - timedelta(microseconds=1)  # ends_at is the midnight after the last day


@dataclass
class Row:
    campaign: Campaign
    mine: Brand | None
    partner: Brand
    last_day: object
    clicks: int  # counted clicks on the link(s) leading to the viewer's side (both legs for staff)
    new_members: int
    given_cents: int  # value the viewer's brand delivered (brand A's for staff)
    received_cents: int


def _row(actor: Actor, campaign: Campaign) -> Row:
    mine = _viewer_brand(actor, campaign)
    metrics = selectors.campaign_metrics(campaign=campaign)
    me = mine or campaign.brand_a
    to_me = [m.totals for m in metrics.legs if m.leg.promoted_id == me.pk]
    r = metrics.reciprocity
    a_side = me.pk == campaign.brand_a_id
    return Row(
        campaign=campaign,
        mine=mine,
        partner=campaign.brand_b if a_side else campaign.brand_a,
        last_day=_last_day(campaign),
        clicks=sum(t.clicks for t in to_me),
        new_members=sum(t.new_members for t in to_me),
        given_cents=r.a_to_b_cents if a_side else r.b_to_a_cents,
        received_cents=r.b_to_a_cents if a_side else r.a_to_b_cents,
    )


@login_required
def campaign_list(request):
    actor = actor_of(request)
    state = request.GET.get("state") or ""
    if state not in CampaignState.values:
        state = ""
    campaigns = selectors.campaign_list(actor=actor, state=state or None)
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [("", _("All"))] + [
        (s.value, s.label) for s in (CampaignState.LIVE, CampaignState.SCHEDULED, CampaignState.COMPLETED)
    ]
    return render(
        request,
        "frontend/campaigns/list.html",
        {
            "rows": [_row(actor, c) for c in page],
            "page": page,
            "tabs": tabs,
            "state": state,
            "page_extra": f"&state={state}" if state else "",
        },
    )


@dataclass
class LegView:
    leg: CampaignLeg
    metrics: selectors.LegMetrics
    title: str
    viewer_promotes: bool
    viewer_promoted: bool
    placements: list


def _leg_title(leg: CampaignLeg, viewer: Brand | None, lang: str) -> str:
    promoter, promoted = leg.promoter.display_name(lang), leg.promoted.display_name(lang)
    if viewer is not None and leg.promoter_id == viewer.pk:
        return _("You promote %(brand)s") % {"brand": promoted}
    if viewer is not None and leg.promoted_id == viewer.pk:
        return _("%(brand)s promotes you") % {"brand": promoter}
    return _("%(promoter)s promotes %(promoted)s") % {"promoter": promoter, "promoted": promoted}


def _chart_data(legs: list[LegView], days) -> dict:
    """What campaign_dashboard.js draws: per leg the daily series, then delivered vs promised.
    Every label is translated here and every tooltip figure formatted by huiliu.formatting."""
    names = {
        "clicks": _("Clicks"),
        "unique_visitors": _("Unique visitors"),
        "new_members": _("New members"),
        "conversions": _("Conversions"),
    }
    return {
        "days": [d.strftime("%m-%d") for d in days],
        "labels": {"delivered": _("Delivered"), "promised": _("Promised")},
        "legs": [
            {
                "id": view.leg.pk,
                "title": view.title,
                "series": [
                    {
                        "key": key,
                        "name": str(names[key]),
                        "colour": COLOURS[key],
                        "data": [getattr(d, key) for d in view.metrics.series],
                    }
                    for key in CHARTED
                ],
            }
            for view in legs
        ],
        "delivery": {
            "legs": [view.title for view in legs],
            "colours": {"delivered": COLOURS["clicks"], "promised": PROMISED_COLOUR},
            "reach": {
                "name": _("Reach"),
                "delivered": [_figure(v.metrics.totals.delivered_reach) for v in legs],
                "promised": [_figure(v.metrics.totals.promised_reach) for v in legs],
            },
            "value": {
                "name": _("Value at benchmark rates (¥)"),
                "delivered": [_money(v.metrics.totals.delivered_value_cents) for v in legs],
                "promised": [_money(v.metrics.totals.promised_value_cents) for v in legs],
            },
        },
    }


def _figure(n: int) -> dict:
    return {"value": n, "text": formatting.number(n)}


def _money(cents: int) -> dict:
    return {"value": cents / 100, "text": formatting.money(cents)}  # yuan for the axis; text exact


@login_required
def dashboard(request, pk: int):
    actor = actor_of(request)
    campaign = selectors.campaign_get(actor=actor, pk=pk)
    if campaign is None:
        raise Http404
    lang = ui_language()
    viewer = _viewer_brand(actor, campaign)
    metrics = selectors.campaign_metrics(campaign=campaign)
    legs = [
        LegView(
            leg=m.leg,
            metrics=m,
            title=_leg_title(m.leg, viewer, lang),
            viewer_promotes=viewer is not None and m.leg.promoter_id == viewer.pk,
            viewer_promoted=viewer is not None and m.leg.promoted_id == viewer.pk,
            placements=[
                (cp, selectors.tracking_url(cp.link) if hasattr(cp, "link") else "") for cp in m.leg.placements.all()
            ],
        )
        for m in metrics.legs
    ]
    me = viewer or campaign.brand_a
    partner = campaign.brand_b if me.pk == campaign.brand_a_id else campaign.brand_a
    r = metrics.reciprocity
    a_side = me.pk == campaign.brand_a_id
    lighter = {campaign.brand_a_id: campaign.brand_a, campaign.brand_b_id: campaign.brand_b}.get(r.lighter_id)
    return render(
        request,
        "frontend/campaigns/dashboard.html",
        {
            "campaign": campaign,
            "viewer_brand": viewer,
            "me": me,
            "partner": partner,
            "legs": legs,
            "days": metrics.days,
            "last_day": _last_day(campaign),
            "reciprocity": r,
            "given_cents": r.a_to_b_cents if a_side else r.b_to_a_cents,
            "received_cents": r.b_to_a_cents if a_side else r.a_to_b_cents,
            "lighter": lighter,
            "chart_data": _chart_data(legs, metrics.days),
            **_settlement_panel(actor, campaign, me),
        },
    )


def _settlement_panel(actor, campaign, me) -> dict:
    """What the reciprocity panel adds once the ledger has something: promised vs delivered per
    side (the ledger's confirmed deliveries), the settlement and the payer's traffic credit."""
    recip = ledger_selectors.campaign_reciprocity(campaign=campaign)
    by_promoter = {leg.promoter_id: leg for leg in recip.legs}
    settlement = recip.settlement
    payer_credit = None
    if settlement is not None:
        payer_credit = ledger_selectors.credit_balance(actor=actor, brand=settlement.payer)
    mine = by_promoter.get(me.pk)
    theirs = next((leg for pid, leg in by_promoter.items() if pid != me.pk), None)
    return {
        "promised_mine_cents": mine.promised_cents if mine else 0,
        "promised_theirs_cents": theirs.promised_cents if theirs else 0,
        "settlement": settlement,
        "payer_credit_cents": payer_credit,
        "settlement_tolerance": settlement.tolerance_percent
        if settlement
        else settlement_services.settlement_policy().tolerance_percent,
    }
