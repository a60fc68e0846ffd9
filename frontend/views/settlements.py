"""Settlements and billing: the two parties (and staff) see a settlement's figures and state;
the payer chooses cash or credit and pays with its saved card; a brand's owner saves the card
on the billing page (Stripe.js / Elements — the number never reaches us) and sees its payments
and receipts. The services decide and validate (exchange.services.settlements / payments)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exchange import selectors as exchange_selectors
from exchange.models import BillingProfile, Payment, PaymentState, Settlement, SettlementState
from exchange.services import payments as payment_services
from exchange.services import refunds as refund_services
from exchange.services import settlements as settlement_services
from exchange.services.common import can_act_for
from frontend.labels import page_error_items
from frontend.views.common import actor_of, brand_for
from partners.models import Role


def _visible(actor):
    return exchange_selectors.settlement_visible(actor=actor)


def _settlement(request, pk: int) -> Settlement:
    s = _visible(actor_of(request)).filter(pk=pk).first()
    if s is None:
        raise Http404
    return s


def _flash_errors(request, exc: ValidationError) -> None:
    for _field, _code, message in page_error_items(exc):
        messages.error(request, message)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _allow_stripe_js(response):
    """Let this page load Stripe.js and talk to Stripe (only here; the site's policy stays
    'self'). Stripe.js needs its own origin for scripts, frames and requests."""
    origins = {o for o in (_origin(settings.STRIPE_JS_URL), _origin(settings.STRIPE_API_BASE)) if o}
    origins |= (
        {"https://api.stripe.com", "https://m.stripe.network"} if "js.stripe.com" in settings.STRIPE_JS_URL else set()
    )
    if origins:
        response._csp_update = {
            "script-src": sorted(origins),
            "connect-src": sorted(origins),
            "frame-src": sorted(origins),
        }
    return response


@login_required
def settlement_list(request):
    actor = actor_of(request)
    rows = list(_visible(actor).order_by("-opened_at")[:200])
    return render(request, "frontend/settlements/list.html", {"settlements": rows, "mine": actor.brand_ids})


@login_required
def settlement_detail(request, pk: int):
    actor = actor_of(request)
    s = _settlement(request, pk)
    is_payer_member = actor.roles.get(s.payer_id) is not None
    profile = BillingProfile.objects.filter(brand_id=s.payer_id).first() if is_payer_member else None
    context = {
        "s": s,
        "held": settlement_services.held(s.campaign_id),
        "cash_enabled": settlement_services.cash_enabled(),
        "cash_possible": settlement_services.cash_possible(s),
        "min_charge_cents": settings.STRIPE_MIN_CHARGE_CENTS,
        "can_choose": can_act_for(actor, s.payer_id)
        and s.state in (SettlementState.OPEN, SettlementState.CASH_PENDING),
        "can_pay": actor.roles.get(s.payer_id) == Role.OWNER and s.state == SettlementState.CASH_PENDING,
        "profile": profile,
        "payments": list(Payment.objects.filter(settlement=s).order_by("attempt"))
        if (is_payer_member or actor.is_admin)
        else [],
        "open_states": (SettlementState.OPEN, SettlementState.CASH_PENDING),
        # A card's decline reason is the payer's own business (and the platform's).
        "sees_failure": is_payer_member or actor.is_admin,
    }
    return render(request, "frontend/settlements/detail.html", context)


@login_required
def settlement_receipt(request, pk: int, attempt: int):
    """The receipt of a settlement's successful card payment: what was charged (cash for the
    gap and the platform fee), what was refunded since, and Stripe's references. The paying
    brand's members and staff only (like the payments list); printable."""
    from django.db.models import Sum

    from exchange.models import Refund, RefundState

    actor = actor_of(request)
    s = _settlement(request, pk)
    if actor.roles.get(s.payer_id) is None and not actor.is_admin:
        raise Http404
    payment = Payment.objects.filter(settlement=s, attempt=attempt, state=PaymentState.SUCCEEDED).first()
    if payment is None:
        raise Http404
    refunds = list(Refund.objects.filter(payment=payment, state=RefundState.SUCCEEDED).order_by("succeeded_at", "pk"))
    refunded = Refund.objects.filter(payment=payment, state=RefundState.SUCCEEDED).aggregate(a=Sum("amount_cents"))
    return render(
        request,
        "frontend/settlements/receipt.html",
        {
            "s": s,
            "payment": payment,
            "number": f"HL-{s.pk:06d}-{payment.attempt}",
            "refunds": refunds,
            "net_cents": payment.amount_cents - (refunded["a"] or 0),
        },
    )


@require_POST
@login_required
def settlement_choose(request, pk: int):
    s = _settlement(request, pk)
    try:
        settlement_services.settlement_choose(
            actor=actor_of(request), settlement=s, choice=request.POST.get("choice", "")
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        s.refresh_from_db()
        if s.state == SettlementState.CREDITED:
            messages.success(request, _("The gap is carried as traffic credit; your next swaps pay it down."))
        else:
            messages.success(request, _("Cash chosen: pay with your saved card below."))
    return redirect("frontend:settlement", pk=s.pk)


@require_POST
@login_required
def settlement_pay(request, pk: int):
    s = _settlement(request, pk)
    try:
        payment = payment_services.settlement_pay(actor=actor_of(request), settlement=s)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        if payment.state == PaymentState.SUCCEEDED:
            messages.success(request, _("Paid. The receipt is listed below and on your billing page."))
        elif payment.state == PaymentState.FAILED:
            messages.error(request, _("The payment did not go through: %(reason)s") % {"reason": payment.failure_text})
        else:
            messages.info(request, _("The payment is being processed; this page shows the result when it is known."))
    return redirect("frontend:settlement", pk=s.pk)


@login_required
def billing(request, slug: str):
    brand = brand_for(request, slug, need="keys")  # owners (and staff): who may spend the brand's money
    actor = actor_of(request)
    client_secret = ""
    enabled = settlement_services.cash_enabled()
    is_owner = actor.roles.get(brand.pk) == Role.OWNER
    # A SetupIntent (a Stripe object) is made only when the owner asks to add or replace a
    # card (``?card=new``), never by merely looking at the page.
    if enabled and is_owner and request.GET.get("card") == "new":
        try:
            _profile, client_secret = payment_services.billing_setup_start(actor=actor, brand=brand)
        except ValidationError as exc:
            _flash_errors(request, exc)
    response = render(
        request,
        "frontend/settlements/billing.html",
        {
            "brand": brand,
            "enabled": enabled,
            "profile": BillingProfile.objects.filter(brand=brand).first(),
            "client_secret": client_secret,
            "can_add_card": enabled and is_owner,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js": settings.STRIPE_JS_URL,
            "payments": list(payment_services.payment_list(brand=brand)[:100]),
        },
    )
    response["Cache-Control"] = "no-store"  # holds a SetupIntent's client secret
    return _allow_stripe_js(response) if client_secret else response


@require_POST
@login_required
def billing_card(request, slug: str):
    brand = brand_for(request, slug, need="keys")
    try:
        profile = payment_services.billing_card_save(
            actor=actor_of(request), brand=brand, setup_intent=request.POST.get("setup_intent", "")
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Card saved: %(brand)s ending %(last4)s.") % {"brand": profile.card_brand, "last4": profile.card_last4},
        )
    return redirect("frontend:billing", slug=brand.slug)


@login_required
def settlement_admin(request):
    """Platform admins: the settlement policy (every change audited by the service), the brands
    carrying traffic credit (who owes, who is owed) and the settlements still open."""
    from django.core.exceptions import PermissionDenied

    from exchange.ledger import selectors as ledger_selectors

    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied
    policy = settlement_services.settlement_policy()
    errors: dict[str, str] = {}
    values = {
        f: getattr(policy, f)
        for f in ("tolerance_percent", "cash_per_100_value", "fee_basis_points", "choose_within_days")
    }
    if request.method == "POST":
        parsed = {}
        for field in values:
            raw = (request.POST.get(field) or "").strip()
            parsed[field] = int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 7 else -1
        try:
            settlement_services.settlement_policy_set(actor=actor, **parsed)
        except ValidationError as exc:
            errors = {f: " ".join(e.messages) for f, es in exc.error_dict.items() for e in es}
            values = {k: request.POST.get(k, "") for k in values}
        else:
            messages.success(request, _("Settlement policy saved. Settlements already open keep their figures."))
            return redirect("frontend:settlement_admin")
    return render(
        request,
        "frontend/exchange_admin/settlement.html",
        {
            "section": "settlement",
            "values": values,
            "errors": errors,
            "labels": {
                # xgettext:no-python-format (a literal percent sign)
                "tolerance_percent": _("Tolerance (% of the larger side)"),
                "cash_per_100_value": _("Cash (¥) per ¥100 of swap value"),
                "fee_basis_points": _("Platform fee (basis points of the cash)"),
                "choose_within_days": _("Days the payer has to choose"),
            },
            "credits": list(ledger_selectors.brands_with_credit()[:200]),
            "failed_refunds": refund_services.refunds_failed(),
            "open": list(
                ledger_selectors.settlement_list(actor=actor).filter(
                    state__in=(SettlementState.OPEN, SettlementState.CASH_PENDING)
                )[:100]
            ),
        },
    )


@require_POST
@login_required
def refund_retry(request, pk: int):
    """Platform admins: ask Stripe again for a refund it refused."""
    from django.core.exceptions import PermissionDenied

    from exchange.models import Refund

    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied
    refund = Refund.objects.filter(pk=pk).first()
    if refund is None:
        raise Http404
    try:
        refund_services.refund_retry(actor=actor, refund=refund)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("The refund was sent to Stripe again; its result appears here and on the receipt."))
    return redirect("frontend:settlement_admin")


LEDGER_PAGE = 50


@login_required
def ledger(request, slug: str):
    """A brand's reciprocity ledger: its four balances (swap value and cash apart) and every
    entry with the running balance of its account, newest first, paginated."""
    from django.core.paginator import Paginator

    from exchange.ledger import selectors as ledger_selectors
    from exchange.models.ledger import AccountKind

    brand = brand_for(request, slug, need="view")
    actor = actor_of(request)
    kind = request.GET.get("account") or None
    if kind not in AccountKind.values:
        kind = None
    page = Paginator(ledger_selectors.ledger_entries(actor=actor, brand=brand, kind=kind), LEDGER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "frontend/settlements/ledger.html",
        {
            "brand": brand,
            "balances": ledger_selectors.ledger_balances(actor=actor, brand=brand) or [],
            "page": page,
            "kind": kind,
            "kinds": [(k.value, k.label) for k in AccountKind if k.value in ledger_selectors.BRAND_KIND_VALUES],
        },
    )
