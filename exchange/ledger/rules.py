"""The exchange's posting rules: which accounts move, by how much and under which key.

Swap value (``HLV``):
* a **confirmed delivery** of value v, promoter P to promoted Q:
  P.value_delivered −v, Q.value_received +v (key ``delivery:<report>:v<version>``);
* a **reciprocity gap** g at completion, lighter L, heavier H (only above the tolerance):
  L.traffic_credit +g (L owes traffic), H.traffic_credit −g (H is owed traffic). Traffic
  credit is mutual credit: it is owed to and by the network, so a later campaign in which L
  delivers more than it receives posts the opposite way and pays L's debt down by itself;
* a **cash settlement** paid: the gap's credit is cleared (L −g, H +g) and the cash lands in
  ``CNY``: Stripe clearing +(cash + fee), fees −fee, H.cash −cash (the platform now owes H
  the cash; payouts are made outside Stripe Connect, see docs/SETTLEMENT.md);
* a **refund** mirrors the part of the payment it returns;
* a **dispute decision** reverses the delivery it corrects and posts the corrected one, then
  moves the campaign's reciprocity to what the corrected figures give (``reciprocity_sync``).
Every amount is in integer cents; every key is derived from what is posted, so a retried
task, a replayed webhook or a second click posts nothing.
"""

from __future__ import annotations

from django.db.models import Sum

from exchange.ledger.posting import Line, Posted, account, ledger_post, ledger_reverse
from exchange.models.ledger import AccountKind as K
from exchange.models.ledger import LedgerEntry, LedgerTransaction, TxnReason


def delivery_key(report_id: int, version: int) -> str:
    return f"delivery:{report_id}:v{version}"


def post_delivery(
    *, campaign, report_id: int, version: int, promoter_id: int, promoted_id: int, value_cents: int, at=None
):
    """Value delivered by a confirmed report (nothing when worth 0)."""
    if value_cents <= 0:
        return None
    return ledger_post(
        key=delivery_key(report_id, version),
        reason=TxnReason.DELIVERY,
        campaign=campaign,
        lines=[
            Line(account(brand=promoter_id, kind=K.VALUE_DELIVERED), -value_cents),
            Line(account(brand=promoted_id, kind=K.VALUE_RECEIVED), value_cents),
        ],
        data={"report": report_id, "version": version, "value_cents": value_cents},
        memo=f"delivery report {report_id} v{version}",
        at=at,
    )


def delivery_correct(
    *, txn: LedgerTransaction, key: str, value_cents: int, reason=TxnReason.DELIVERY_ADJUSTMENT, at=None
):
    """Reverse a delivery's posting and post its corrected value (a dispute decision)."""
    ledger_reverse(txn=txn, reason=reason, key=f"{key}:reverse", memo=f"corrects #{txn.pk}", at=at)
    promoter, promoted = None, None
    for e in txn.entries.select_related("account"):
        if e.account.kind == K.VALUE_DELIVERED:
            promoter = e.account.brand_id
        elif e.account.kind == K.VALUE_RECEIVED:
            promoted = e.account.brand_id
    if value_cents <= 0:
        return None
    return ledger_post(
        key=f"{key}:corrected",
        reason=reason,
        campaign=txn.campaign,
        lines=[
            Line(account(brand=promoter, kind=K.VALUE_DELIVERED), -value_cents),
            Line(account(brand=promoted, kind=K.VALUE_RECEIVED), value_cents),
        ],
        data={**txn.data, "value_cents": value_cents, "corrects": txn.pk},
        memo=f"corrected delivery (was #{txn.pk})",
        at=at,
    )


def delivered_by_brand(campaign) -> dict[int, int]:
    """Value each brand delivered in ``campaign``, from the ledger (positive cents)."""
    rows = (
        LedgerEntry.objects.filter(transaction__campaign=campaign, account__kind=K.VALUE_DELIVERED)
        .values("account__brand_id")
        .annotate(s=Sum("amount_cents"))
    )
    return {r["account__brand_id"]: -(r["s"] or 0) for r in rows}


RECIPROCITY_REASONS = (TxnReason.RECIPROCITY, TxnReason.DISPUTE_RESOLUTION)


def reciprocity_posted(campaign) -> dict[int, int]:
    """Traffic credit the campaign's gap has put on each brand (positive: owes), not counting
    what cash settlements and refunds moved."""
    rows = (
        LedgerEntry.objects.filter(
            transaction__campaign=campaign,
            transaction__reason__in=RECIPROCITY_REASONS,
            account__kind=K.TRAFFIC_CREDIT,
        )
        .values("account__brand_id")
        .annotate(s=Sum("amount_cents"))
    )
    return {r["account__brand_id"]: r["s"] or 0 for r in rows}


def reciprocity_sync(
    *, campaign, owed: dict[int, int], key: str, reason=TxnReason.RECIPROCITY, at=None
) -> Posted | None:
    """Move the campaign's traffic credit to ``owed`` (brand id → what it should owe, the two
    summing to zero). Posts only the difference from what is already posted; None if none."""
    posted = reciprocity_posted(campaign)
    brands = {campaign.brand_a_id, campaign.brand_b_id}
    delta = {b: owed.get(b, 0) - posted.get(b, 0) for b in brands}
    if not any(delta.values()):
        return None
    return ledger_post(
        key=key,
        reason=reason,
        campaign=campaign,
        lines=[Line(account(brand=b, kind=K.TRAFFIC_CREDIT), d) for b, d in delta.items()],
        data={"owed": {str(b): v for b, v in owed.items()}},
        memo=f"reciprocity of campaign {campaign.pk}",
        at=at,
    )


def post_cash_settlement(*, settlement, payment_id: int, gap_value_cents: int, cash_cents: int, fee_cents: int):
    """A settlement paid by card: its credit cleared and the cash booked (see the module)."""
    payer, payee = settlement.payer_id, settlement.payee_id
    lines = [
        Line(account(brand=None, kind=K.STRIPE_CLEARING), cash_cents + fee_cents),
        Line(account(brand=payee, kind=K.CASH), -cash_cents),
    ]
    if fee_cents:
        lines.append(Line(account(brand=None, kind=K.FEES), -fee_cents))
    if gap_value_cents:
        lines += [
            Line(account(brand=payer, kind=K.TRAFFIC_CREDIT), -gap_value_cents),
            Line(account(brand=payee, kind=K.TRAFFIC_CREDIT), gap_value_cents),
        ]
    return ledger_post(
        key=f"payment:{payment_id}:succeeded",
        reason=TxnReason.SETTLEMENT,
        campaign=settlement.campaign,
        lines=lines,
        data={"settlement": settlement.pk, "payment": payment_id},
        memo=f"settlement {settlement.pk} paid",
    )


def post_refund(*, settlement, refund_id: int, gap_value_cents: int, cash_cents: int, fee_cents: int):
    """A refund: the mirror of the part of the payment it returns."""
    payer, payee = settlement.payer_id, settlement.payee_id
    lines = [
        Line(account(brand=None, kind=K.STRIPE_CLEARING), -(cash_cents + fee_cents)),
        Line(account(brand=payee, kind=K.CASH), cash_cents),
    ]
    if fee_cents:
        lines.append(Line(account(brand=None, kind=K.FEES), fee_cents))
    if gap_value_cents:
        lines += [
            Line(account(brand=payer, kind=K.TRAFFIC_CREDIT), gap_value_cents),
            Line(account(brand=payee, kind=K.TRAFFIC_CREDIT), -gap_value_cents),
        ]
    return ledger_post(
        key=f"refund:{refund_id}:succeeded",
        reason=TxnReason.REFUND,
        campaign=settlement.campaign,
        lines=lines,
        data={"settlement": settlement.pk, "refund": refund_id},
        memo=f"refund of settlement {settlement.pk}",
    )
