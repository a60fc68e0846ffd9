"""The only code that talks to Stripe (``import stripe`` lives here alone).

Cents, currency and an idempotency key go in; small dataclasses come out, so services never
hold a Stripe object. Configured from settings: STRIPE_SECRET_KEY, and STRIPE_API_BASE for a
Stripe-compatible server (localstripe in the tests).

Exactly once, even against a server that ignores ``Idempotency-Key`` (localstripe does; Stripe
honours it for 24 hours): every PaymentIntent and Refund carries our row's id in its metadata,
and ``payment_intent_find_or_create`` / ``refund_find_or_create`` first look for an object with
that metadata, so a retry after a crash between the call and our database write finds the
first one instead of making a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings

PAYMENT_KEY = "huiliu_payment"
REFUND_KEY = "huiliu_refund"
DEPLOYMENT_KEY = "huiliu_deployment"


class StripeUnavailable(Exception):
    """Stripe could not be reached or answered with an error that is not the card's: the
    answer is unknown, so the call is retried later (and finds what the first one made)."""


class StripeRefused(Exception):
    """Stripe refused the request itself (invalid for good: an amount below its minimum, a
    detached card, a key reused with other parameters). Retrying the same request cannot
    succeed; the caller records the refusal with ``message``."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


def ours(metadata: dict | None) -> bool:
    """Whether a Stripe object's metadata names this deployment (objects made before the tag
    existed carry none and count as ours; the caller still matches ids and customer)."""
    tag = (metadata or {}).get(DEPLOYMENT_KEY)
    return tag is None or tag == settings.STRIPE_DEPLOYMENT


def _refused(exc: stripe.StripeError) -> StripeRefused:
    err = getattr(exc, "error", None)
    return StripeRefused(
        str(getattr(err, "message", "") or getattr(exc, "user_message", "") or exc)[:300],
        str(getattr(err, "code", "") or "")[:60],
    )


@dataclass(frozen=True)
class Intent:
    id: str
    status: str  # requires_payment_method | requires_confirmation | requires_action | processing | succeeded | canceled
    amount_cents: int
    currency: str
    failure_code: str = ""
    failure_message: str = ""
    receipt_url: str = ""
    metadata: dict | None = None
    customer: str = ""


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending | succeeded | failed | canceled
    amount_cents: int
    payment_intent: str = ""
    metadata: dict | None = None


@dataclass(frozen=True)
class Card:
    payment_method: str
    brand: str
    last4: str
    exp: str


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not configured():
        raise StripeUnavailable("STRIPE_SECRET_KEY is not set")
    bases = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    # An explicit timeout (the library's default is 80 s): a call that has not answered by
    # then counts as unanswered, and the beat resumes it only well after (RESUME_AFTER).
    http = stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses=bases, max_network_retries=0, http_client=http
    )


def _d(obj) -> dict:
    """A plain dict of a Stripe object (nested objects too)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _intent(pi) -> Intent:
    pi = _d(pi)
    error = pi.get("last_payment_error") or {}
    # ``latest_charge`` is the charge's id unless the call expanded it (we do, for its receipt).
    charge = pi.get("latest_charge")
    receipt = (charge.get("receipt_url") or "") if isinstance(charge, dict) else ""
    return Intent(
        id=pi["id"],
        status=pi["status"],
        amount_cents=int(pi["amount"]),
        currency=str(pi["currency"]).upper(),
        failure_code=(error.get("decline_code") or error.get("code") or "") if error else "",
        failure_message=(error.get("message") or "") if error else "",
        receipt_url=receipt if isinstance(receipt, str) and receipt.startswith("https://") else "",
        metadata=dict(pi.get("metadata") or {}),
        customer=id_of(pi.get("customer")),
    )


def id_of(ref) -> str:
    """The id of a reference that may be expanded (an object) or not (its id)."""
    if isinstance(ref, dict):
        ref = ref.get("id")
    return ref if isinstance(ref, str) else ""


def _list_all(resource, **filters):
    """Every object of a list endpoint, page by page (filters the server may not know are
    dropped: localstripe refuses any)."""
    params = {"limit": 100, **filters}
    while True:
        try:
            page = resource.list(params=params)
        except stripe.InvalidRequestError:
            if len(params) > 1 and set(params) - {"limit", "starting_after"}:
                params = {k: v for k, v in params.items() if k in ("limit", "starting_after")}
                continue
            raise
        yield from (_d(o) for o in page.data)
        if not page.has_more or not page.data:
            return
        params = {**params, "starting_after": page.data[-1]["id"]}


def customer_create(*, name: str, email: str, brand_slug: str, idempotency_key: str) -> str:
    try:
        customer = _client().v1.customers.create(
            params={"name": name, "email": email or None, "metadata": {"huiliu_brand": brand_slug}},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc
    return customer["id"]


def setup_intent_create(*, customer: str, payment_method_types: list[str]) -> tuple[str, str]:
    """A SetupIntent for saving a card off-session: (id, client_secret for Stripe.js)."""
    try:
        si = _client().v1.setup_intents.create(
            params={"customer": customer, "usage": "off_session", "payment_method_types": payment_method_types}
        )
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc
    return si["id"], si["client_secret"]


def setup_intent_card(*, setup_intent: str, customer: str) -> Card | None:
    """The card a succeeded SetupIntent saved for ``customer`` (None if not succeeded or not
    this customer's)."""
    try:
        client = _client()
        si = _d(client.v1.setup_intents.retrieve(setup_intent))
        if si["status"] != "succeeded" or si.get("customer") != customer or not si.get("payment_method"):
            return None
        pm_id = si["payment_method"] if isinstance(si["payment_method"], str) else si["payment_method"]["id"]
        pm = _d(client.v1.payment_methods.retrieve(pm_id))
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc
    card = pm.get("card") or {}
    exp = f"{int(card.get('exp_month') or 0):02d}/{card.get('exp_year') or ''}" if card else ""
    return Card(payment_method=pm_id, brand=str(card.get("brand") or ""), last4=str(card.get("last4") or ""), exp=exp)


def payment_intent_find(*, payment_id: int, customer: str) -> Intent | None:
    for pi in _list_all(_client().v1.payment_intents, customer=customer):
        meta = pi.get("metadata") or {}
        if meta.get(PAYMENT_KEY) == str(payment_id) and ours(meta) and id_of(pi.get("customer")) in ("", customer):
            return payment_intent_retrieve(pi["id"])  # read again with its charge (the receipt)
    return None


def payment_intent_find_or_create(
    *,
    payment_id: int,
    settlement_id: int,
    amount_cents: int,
    currency: str,
    customer: str,
    payment_method: str,
    idempotency_key: str,
    description: str,
) -> Intent:
    """The PaymentIntent of our payment row: the one already made for it, or a new one created
    and confirmed off-session with the saved card. A declined card is an Intent with
    ``failure_code`` (not an exception); StripeUnavailable when the answer is unknown."""
    try:
        # Looking for what an earlier call made is never a refusal: an error here means the
        # answer is unknown (the intent may exist and may have charged).
        found = payment_intent_find(payment_id=payment_id, customer=customer)
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc
    if found is not None:
        return found
    try:
        pi = _client().v1.payment_intents.create(
            params={
                "amount": int(amount_cents),
                "currency": currency.lower(),
                "customer": customer,
                "payment_method": payment_method,
                "confirm": True,
                "off_session": True,
                "expand": ["latest_charge"],
                # In metadata, not ``description``: localstripe refuses that parameter.
                "metadata": {
                    PAYMENT_KEY: str(payment_id),
                    DEPLOYMENT_KEY: settings.STRIPE_DEPLOYMENT,
                    "huiliu_settlement": str(settlement_id),
                    "note": description,
                },
            },
            options={"idempotency_key": idempotency_key},
        )
        return _intent(pi)
    except stripe.CardError as exc:
        # Declined: the PaymentIntent exists with the error; read it back to keep its id (if
        # Stripe does not answer that, the decline itself still says why).
        try:
            found = payment_intent_find(payment_id=payment_id, customer=customer)
        except (stripe.StripeError, StripeUnavailable):
            found = None
        if found is not None and found.failure_code:
            return found
        err = exc.error
        return Intent(
            id=found.id if found else "",
            status="requires_payment_method",
            amount_cents=int(amount_cents),
            currency=currency,
            failure_code=(getattr(err, "decline_code", None) or getattr(err, "code", None) or "card_declined"),
            failure_message=str(getattr(err, "message", "") or exc.user_message or ""),
        )
    except stripe.InvalidRequestError as exc:
        # The create itself was refused (invalid for good): nothing was charged. Not an
        # IdempotencyError: that says a request with this key already ran — unknown, retried.
        raise _refused(exc) from exc
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc


def payment_intent_cancel(intent_id: str) -> Intent:
    """Cancel a PaymentIntent that cannot finish off-session (the bank asked the cardholder
    to confirm): nothing is charged, and a later attempt starts afresh."""
    try:
        return _intent(_client().v1.payment_intents.cancel(intent_id))
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc


def payment_intent_retrieve(intent_id: str) -> Intent:
    try:
        return _intent(_client().v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]}))
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc


def payment_intents_all() -> list[Intent]:
    """Every PaymentIntent this platform made (reconciliation)."""
    try:
        return [
            _intent(pi)
            for pi in _list_all(_client().v1.payment_intents)
            if PAYMENT_KEY in (pi.get("metadata") or {}) and ours(pi.get("metadata"))
        ]
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc


def _refund(r) -> RefundResult:
    r = _d(r)
    return RefundResult(
        id=r["id"],
        status=r["status"],
        amount_cents=int(r["amount"]),
        payment_intent=id_of(r.get("payment_intent")),
        metadata=dict(r.get("metadata") or {}),
    )


def refunds_of(payment_intent: str) -> list[RefundResult]:
    try:
        return [_refund(r) for r in _list_all(_client().v1.refunds, payment_intent=payment_intent)]
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc


def refund_find_or_create(
    *, refund_id: int, payment_intent: str, amount_cents: int, idempotency_key: str
) -> RefundResult:
    """The refund of our refund row: found by its metadata among the PaymentIntent's refunds,
    or created."""
    for r in refunds_of(payment_intent):  # StripeUnavailable when it cannot list: unknown
        if (r.metadata or {}).get(REFUND_KEY) == str(refund_id) and ours(r.metadata):
            return r
    try:
        r = _client().v1.refunds.create(
            params={
                "payment_intent": payment_intent,
                "amount": int(amount_cents),
                "metadata": {REFUND_KEY: str(refund_id), DEPLOYMENT_KEY: settings.STRIPE_DEPLOYMENT},
            },
            options={"idempotency_key": idempotency_key},
        )
        return _refund(r)
    except stripe.InvalidRequestError as exc:
        raise _refused(exc) from exc
    except stripe.StripeError as exc:
        raise StripeUnavailable(str(exc)) from exc


def webhook_event(*, payload: bytes, signature: str) -> dict:
    """The event of a webhook request, its signature verified with STRIPE_WEBHOOK_SECRET
    (ValueError on a bad payload or signature)."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise ValueError("no webhook secret configured")
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except stripe.SignatureVerificationError as exc:
        raise ValueError(str(exc)) from exc
    except (AttributeError, KeyError, TypeError) as exc:  # signed, but not an event object
        raise ValueError(f"not a Stripe event: {exc}") from exc
    event = event.to_dict() if hasattr(event, "to_dict") else dict(event)
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise ValueError("not a Stripe event: no id or type")
    return event
