"""A campaign's assets: per placement the coupon batch (generate, CSV), the tracking link's QR
code (SVG, PNG), and the orders and new members the promoted brands reported (with a reverse
button for the reporter).

Thin views: ``exchange.selectors`` decides who sees the campaign (anyone else gets a 404, so
its existence is never revealed) and the services decide who may act. The block itself is the
partial ``frontend/campaigns/_assets.html`` (``{% include … with campaign=… viewer_brand=… %}``)
that the campaign dashboard includes; ``/campaigns/<pk>/assets/`` shows it alone.
"""

from __future__ import annotations

import io

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from exchange import conf, selectors, services
from exchange.errors import ExchangeError
from exchange.models import Campaign, CampaignPlacement
from frontend.views.common import actor_of, safe_next
from frontend.views.proposal_common import flash_errors
from huiliu.text import ascii_int

QR_SCALE = {"svg": 10, "png": 10}
QR_CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def _campaign(request, pk: int) -> Campaign:
    campaign = selectors.campaign_get(actor=actor_of(request), pk=pk)
    if campaign is None:
        raise Http404
    return campaign


def _placement(request, pk: int, placement: int) -> CampaignPlacement:
    cp = selectors.campaign_placement_get(actor=actor_of(request), pk=placement)
    if cp is None or cp.leg.campaign_id != pk:
        raise Http404
    return cp


def viewer_brand_of(actor, campaign: Campaign):
    """The caller's side of the campaign (None for platform admins who are neither)."""
    for brand in (campaign.brand_a, campaign.brand_b):
        if actor.role_in(brand.pk) is not None:
            return brand
    return None


def _back(request, pk: int) -> str:
    return safe_next(request, reverse("frontend:campaign_assets", kwargs={"pk": pk}))


@login_required
@require_GET
def assets(request, pk: int):
    campaign = _campaign(request, pk)
    return render(
        request,
        "frontend/campaigns/assets_page.html",
        {"campaign": campaign, "viewer_brand": viewer_brand_of(actor_of(request), campaign)},
    )


@login_required
@require_POST
def coupons_generate(request, pk: int, placement: int):
    cp = _placement(request, pk, placement)
    size = ascii_int(request.POST.get("size"))
    try:
        if size is None:
            raise ValidationError(
                {
                    "size": ValidationError(
                        _("Enter how many codes the batch should hold."), code=ExchangeError.COUPON_BATCH_SIZE
                    )
                }
            )
        batch = services.coupon_batch_generate(actor=actor_of(request), placement=cp, size=size)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The coupon batch now holds %(n)s codes.") % {"n": f"{batch.size:,}"})
    return redirect(_back(request, pk))


@login_required
@require_GET
def coupons_csv(request, pk: int, placement: int):
    cp = _placement(request, pk, placement)
    try:
        lines = services.coupons_csv(actor=actor_of(request), placement=cp)
    except ValidationError:
        raise Http404 from None  # a non-party (admins included) never gets the codes
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="huiliu-coupons-{pk}-{cp.pk}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def tracking_url(code: str) -> str:
    """The absolute address a QR code encodes: the public site URL and the redirect's path."""
    return conf.public_base_url() + reverse("exchange:track", kwargs={"code": code})


@login_required
@require_GET
def qr(request, pk: int, placement: int, fmt: str):
    cp = _placement(request, pk, placement)  # parties and platform admins
    link = getattr(cp, "link", None)
    if link is None or fmt not in QR_CONTENT_TYPES:
        raise Http404
    code = segno.make(tracking_url(link.code), error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind=fmt, scale=QR_SCALE[fmt], border=2)
    response = HttpResponse(buffer.getvalue(), content_type=QR_CONTENT_TYPES[fmt])
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="huiliu-qr-{link.code}.{fmt}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def event_reverse(request, pk: int, event: int):
    campaign = _campaign(request, pk)
    target = selectors.reported_event_visible(actor=actor_of(request)).filter(pk=event, campaign=campaign).first()
    if target is None:
        raise Http404
    try:
        services.reported_event_reverse(actor=actor_of(request), event=target, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Reversed: it no longer counts in the campaign's results."))
    return redirect(_back(request, pk))
