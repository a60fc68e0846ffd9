"""Delivery reports on the web: a campaign's delivery page (the panel the campaign dashboard also
includes: ``campaigns/_delivery.html`` with ``campaign`` and ``viewer_brand``), the forms
posted from it (report, confirm, dispute), the access-checked proof image, and the admins'
list of disputed deliveries.

Thin views: ``exchange.selectors`` decide what the caller sees (anything else is a 404, so a
campaign's existence is never revealed), ``exchange.services.delivery`` what it may do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from exchange import selectors, services
from exchange.models import Campaign, CampaignLeg, CampaignPlacement, DeliveryReport
from exchange.proofs import content_type
from exchange.services.common import can_act_for
from exchange.services.delivery import RUNNING
from exchange.states import DeliveryState
from frontend.delivery_forms import DeliveryDisputeForm, DeliveryReportForm
from frontend.forms import apply_errors
from frontend.views.common import actor_of
from frontend.views.proposal_common import refused
from partners.actors import Actor
from partners.models import Brand

DISPUTES_PAGE_SIZE = 25


# --- the panel -----------------------------------------------------------------------------------
@dataclass
class Row:
    cp: CampaignPlacement
    report: DeliveryReport | None
    can_report: bool
    can_answer: bool
    report_form: DeliveryReportForm | None
    dispute_form: DeliveryDisputeForm | None


@dataclass
class LegPanel:
    leg: CampaignLeg
    rows: list[Row] = field(default_factory=list)
    mine: bool = False  # the viewer's brand promotes on this leg


def viewer_brand_of(actor: Actor, campaign: Campaign) -> Brand | None:
    """The side a member reads the campaign from (brand A first for a person in both); None
    for platform admins, who read both sides."""
    for brand in (campaign.brand_a, campaign.brand_b):
        if brand.pk in actor.brand_ids:
            return brand
    return None


def delivery_panel(request, campaign: Campaign, viewer_brand: Brand | None, bound: dict | None = None) -> list:
    """Per leg, per placement: promised vs reported, the report and what ``viewer_brand``'s
    person may do with it, with the forms (``bound`` keeps a refused form with its errors:
    ``{("report", cp_pk) | ("dispute", report_pk): form}``). Two queries for the campaign."""
    actor = actor_of(request)
    bound = bound or {}
    now = timezone.now()
    viewer_id = viewer_brand.pk if viewer_brand is not None else None
    legs: dict[int, LegPanel] = {}
    for cp in selectors.campaign_placements_for_delivery(actor=actor, campaign=campaign):
        leg = legs.setdefault(cp.leg_id, LegPanel(leg=cp.leg, mine=cp.leg.promoter_id == viewer_id))
        report = getattr(cp, "delivery_report", None)
        can_report = (
            cp.leg.promoter_id == viewer_id
            and can_act_for(actor, viewer_id)
            and campaign.state in RUNNING
            and (
                report is None
                or report.state == DeliveryState.DISPUTED
                or (report.state == DeliveryState.REPORTED and now < report.confirm_due_at)
            )
        )
        can_answer = (
            report is not None
            and cp.leg.promoted_id == viewer_id
            and can_act_for(actor, viewer_id)
            and report.state == DeliveryState.REPORTED
            and now < report.confirm_due_at
        )
        report_form = None
        if can_report:
            initial = {"reach": report.reach, "note": report.note} if report else {}
            if report is not None:
                initial["delivered_at"] = timezone.localtime(report.delivered_at)
            report_form = bound.get(("report", cp.pk)) or DeliveryReportForm(prefix=f"p{cp.pk}", initial=initial)
        dispute_form = None
        if can_answer:
            dispute_form = bound.get(("dispute", report.pk)) or DeliveryDisputeForm(prefix=f"d{report.pk}")
        leg.rows.append(Row(cp, report, can_report, can_answer, report_form, dispute_form))
    # The viewer's own leg (what it must report) first.
    return sorted(legs.values(), key=lambda leg: (not leg.mine, leg.leg.pk))


def _campaign_or_404(actor: Actor, pk: int) -> Campaign:
    campaign = selectors.campaign_visible(actor=actor).select_related("proposal").filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def _page(request, campaign: Campaign, bound: dict | None = None, status: int = 200):
    actor = actor_of(request)
    viewer = viewer_brand_of(actor, campaign)
    return render(
        request,
        "frontend/campaigns/delivery.html",
        {
            "campaign": campaign,
            "viewer_brand": viewer,
            "delivery_bound": bound or {},
            "is_party": viewer is not None,
        },
        status=status,
    )


@login_required
def page(request, pk: int):
    return _page(request, _campaign_or_404(actor_of(request), pk))


def _back(pk: int, anchor: str):
    return redirect(reverse("frontend:campaign_delivery", args=[pk]) + f"#{anchor}")


@require_POST
@login_required
def report(request, pk: int, placement_pk: int):
    actor = actor_of(request)
    campaign = _campaign_or_404(actor, pk)
    cp = CampaignPlacement.objects.filter(leg__campaign=campaign, pk=placement_pk).first()
    if cp is None:
        raise Http404
    form = DeliveryReportForm(request.POST, request.FILES, prefix=f"p{cp.pk}")
    if form.is_valid():
        try:
            services.delivery_report(
                actor=actor,
                placement=cp,
                reach=form.cleaned_data["reach"],
                delivered_at=form.cleaned_data["delivered_at"],
                proof_image=form.cleaned_data["proof_image"],
                proof_url=form.cleaned_data["proof_url"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            if refused(exc):
                raise PermissionDenied from None
            apply_errors(form, exc)
        else:
            messages.success(request, _("Delivery reported. The other brand has been asked to confirm it."))
            return _back(pk, f"delivery-{cp.pk}")
    return _page(request, campaign, {("report", cp.pk): form})


def _report_or_404(actor: Actor, campaign: Campaign, report_pk: int) -> DeliveryReport:
    found = selectors.delivery_report_get(actor=actor, pk=report_pk)
    if found is None or found.campaign_id != campaign.pk:
        raise Http404
    return found


@require_POST
@login_required
def confirm(request, pk: int, report_pk: int):
    actor = actor_of(request)
    campaign = _campaign_or_404(actor, pk)
    found = _report_or_404(actor, campaign, report_pk)
    try:
        services.delivery_confirm(actor=actor, report=found)
    except ValidationError as exc:
        if refused(exc):
            raise PermissionDenied from None
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Delivery confirmed."))
    return _back(pk, f"delivery-{found.placement_id}")


@require_POST
@login_required
def dispute(request, pk: int, report_pk: int):
    actor = actor_of(request)
    campaign = _campaign_or_404(actor, pk)
    found = _report_or_404(actor, campaign, report_pk)
    form = DeliveryDisputeForm(request.POST, prefix=f"d{found.pk}")
    if form.is_valid():
        try:
            services.delivery_dispute(
                actor=actor, report=found, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            if refused(exc):
                raise PermissionDenied from None
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Delivery disputed. The other brand sees your reason and can correct its report.")
            )
            return _back(pk, f"delivery-{found.placement_id}")
    return _page(request, campaign, {("dispute", found.pk): form})


@require_GET
@login_required
def proof(request, pk: int, report_pk: int):
    """A report's proof image, for the campaign's two brands and platform admins only (404
    otherwise). Its type comes from its content; the response is sandboxed and kept private."""
    actor = actor_of(request)
    found = _report_or_404(actor, _campaign_or_404(actor, pk), report_pk)
    if not found.proof_image:
        raise Http404
    try:
        stream = found.proof_image.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    kind = content_type(stream)
    if kind is None:  # never stored by delivery_report; refuse rather than guess
        stream.close()
        raise Http404
    response = FileResponse(stream, content_type=kind)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- platform admins -------------------------------------------------------------------------------
@login_required
def disputed_admin(request):
    """Every disputed delivery on the platform, longest-standing first (read-only: resolving a
    dispute is the settlement stage's)."""
    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied
    page = Paginator(selectors.disputed_delivery_list(actor=actor), DISPUTES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "frontend/exchange_admin/deliveries.html", {"page": page, "section": "deliveries"})
