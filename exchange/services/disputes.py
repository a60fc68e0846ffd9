"""Disputes (争议): open, answer with evidence, withdraw, and the platform's decision.

* ``dispute_open`` — either party's owners, marketers or write keys:
  - on a **delivery report** of its campaign: a report still awaiting the promoted side's
    answer is disputed by the promoted side only (exactly ``delivery_dispute``: the report
    turns ``disputed`` and holds the campaign open); a **confirmed** report by either side
    while the campaign is live or within ``DISPUTE_WINDOW_DAYS`` of its completion;
  - on the campaign's **result**: only once completed, within ``DISPUTE_WINDOW_DAYS`` of it.
  One open dispute per subject (also a database constraint). The other party responds.
* ``dispute_answer`` — the respondent, once, while ``open``; ``dispute_evidence_add`` — either
  side while open or answered; ``dispute_withdraw`` — the opener while open or answered.
* ``dispute_resolve`` — platform admins, with a written decision. ``upheld`` with
  ``adjustments={report_id: new_reach}`` changes delivered amounts only through new ledger
  transactions (a confirmed report: ``rules.delivery_correct`` — reversal and corrected
  posting — and the rollups moved by the difference; a still-disputed report: confirmed at the
  decided reach). ``rejected``: the figures stand (a disputed report is confirmed as
  reported). A completed campaign's settlement then follows the corrected figures
  (``settlements.settlement_after_dispute``; a paid one is refunded by ``refunds.refund_issue``).

An open dispute holds the campaign's settlement (``settlements.held``). Every step runs in one
transaction, is audited for both brands and is written to the outbox (``dispute.opened``,
``dispute.answered``, ``dispute.resolved`` — also sent, with state ``withdrawn`` and an empty
outcome, when the opener withdraws or a corrected report supersedes the dispute).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exchange import conf, valuation
from exchange.errors import ExchangeError as E
from exchange.ledger import rules
from exchange.ledger.posting import Line, account, ledger_post
from exchange.models import (
    OPEN_DISPUTE_STATES,
    AccountKind,
    Campaign,
    DeliveryReport,
    Dispute,
    DisputeOutcome,
    DisputeState,
    DisputeSubject,
    EventType,
    LedgerTransaction,
    PricingUnit,
    TxnReason,
)
from exchange.services import delivery as delivery_service
from exchange.services import settlements
from exchange.services.common import can_act_for, error
from exchange.services.dispute_records import (
    clean_statement,
    dispute_audit,
    dispute_create,
    dispute_event,
    dispute_payload,
    evidence_check,
    evidence_store,
)
from exchange.services.rollups import day_of, rollup_add
from exchange.states import CampaignState, DeliveryState, DisputeReason
from huiliu.formatting import number
from partners.actors import Actor
from partners.models import AuditAction

DISPUTE_WINDOW_DAYS = 14  # after completion; documented in docs/DISPUTES.md


class ResultReason(models.TextChoices):
    """Reasons for a dispute on a campaign's result (delivery disputes use ``DisputeReason``)."""

    FIGURES_WRONG = "figures_wrong", gettext_lazy("The confirmed figures are wrong")
    DELIVERIES_MISSING = "deliveries_missing", gettext_lazy("Deliveries are missing from the result")
    OTHER = "other", gettext_lazy("Other")


def reason_label(reason: str) -> str:
    """A dispute's reason in the current language, whichever subject it belongs to."""
    for choices in (DisputeReason, ResultReason):
        if reason in choices.values:
            return str(choices(reason).label)
    return reason


def _locked(pk: int) -> Dispute:
    d = Dispute.objects.select_for_update(of=("self",)).get(pk=pk)
    return Dispute.objects.select_related(
        "opened_by", "respondent", "campaign__proposal", "campaign__brand_a", "campaign__brand_b", "delivery_report"
    ).get(pk=d.pk)


def _window_open(campaign: Campaign, now: datetime) -> bool:
    if campaign.state == CampaignState.LIVE:
        return True
    if campaign.state != CampaignState.COMPLETED:
        return False
    done = campaign.completed_at or campaign.ends_at
    return now <= done + timedelta(days=DISPUTE_WINDOW_DAYS)


# --- opening ---------------------------------------------------------------------------------
def dispute_open(
    *,
    actor: Actor,
    campaign: Campaign,
    subject: str,
    delivery_report: DeliveryReport | None = None,
    reason: str,
    statement: str,
    evidence: Sequence = (),
    now: datetime | None = None,
) -> Dispute:
    """Open a dispute for the caller's brand in ``campaign`` (see the module for who and when).
    Returns the open Dispute, its opener's evidence stored."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update().select_related("brand_a", "brand_b", "proposal").get(pk=campaign.pk)
        )
        sides = [b for b in (campaign.brand_a, campaign.brand_b) if can_act_for(actor, b.pk)]
        if not sides:
            raise error(
                "campaign",
                _("Only the two brands' owners, marketers and write keys open a dispute on their campaign."),
                E.NOT_A_PARTY,
            )
        if subject not in DisputeSubject.values:
            raise error("subject", _("Choose what you dispute: a delivery report or the result."), E.INVALID)
        if subject == DisputeSubject.RESULT:
            if delivery_report is not None:
                raise error("subject", _("A dispute on the result names no delivery report."), E.INVALID)
            if campaign.state != CampaignState.COMPLETED or not _window_open(campaign, now):
                raise error(
                    "campaign",
                    _("A campaign's result can be disputed within %(n)d days of its completion.")
                    % {"n": DISPUTE_WINDOW_DAYS},
                    E.DISPUTE_WINDOW_CLOSED,
                )
            if reason not in ResultReason.values:
                raise error("reason", _("Choose one of the listed reasons."), E.INVALID if reason else E.REQUIRED)
            opener = sides[0]
            respondent = campaign.brand_b if opener == campaign.brand_a else campaign.brand_a
            text = clean_statement(statement, "statement", _("Statement"))
            checked = evidence_check(evidence)
            return dispute_create(
                actor=actor,
                campaign=campaign,
                subject=subject,
                report=None,
                opened_by=opener,
                respondent=respondent,
                reason=reason,
                statement=text,
                checked=checked,
                now=now,
            )

        # A delivery report.
        if delivery_report is None:
            raise error("delivery_report", _("Choose the delivery report you dispute."), E.REQUIRED)
        report = (
            DeliveryReport.objects.select_related("placement__leg__promoter", "placement__leg__promoted")
            .filter(pk=delivery_report.pk, campaign=campaign)
            .first()
        )
        if report is None:
            raise error("delivery_report", _("This delivery report is not part of the campaign."), E.INVALID)
        leg = report.placement.leg
        if report.state == DeliveryState.REPORTED:
            # Awaiting the promoted side's answer: disputing it is that side's answer.
            text = clean_statement(statement, "statement", _("Statement"))
            delivery_service.delivery_dispute(
                actor=actor, report=report, reason=reason, note=text, now=now, evidence=evidence
            )
            return Dispute.objects.get(delivery_report=report, state__in=OPEN_DISPUTE_STATES)
        if report.state == DeliveryState.DISPUTED:
            raise error("subject", _("A dispute on this is already open."), E.DISPUTE_ALREADY_OPEN)
        if not _window_open(campaign, now):
            raise error(
                "campaign",
                _("A delivery can be disputed while the campaign runs and within %(n)d days of its completion.")
                % {"n": DISPUTE_WINDOW_DAYS},
                E.DISPUTE_WINDOW_CLOSED,
            )
        if reason not in DisputeReason.values:
            raise error("reason", _("Choose one of the listed reasons."), E.INVALID if reason else E.REQUIRED)
        opener = leg.promoted if leg.promoted_id in {b.pk for b in sides} else leg.promoter
        respondent = leg.promoter if opener.pk == leg.promoted_id else leg.promoted
        text = clean_statement(statement, "statement", _("Statement"))
        checked = evidence_check(evidence)
        return dispute_create(
            actor=actor,
            campaign=campaign,
            subject=subject,
            report=report,
            opened_by=opener,
            respondent=respondent,
            reason=reason,
            statement=text,
            checked=checked,
            now=now,
        )


# --- the two sides ---------------------------------------------------------------------------
def _side_of(actor: Actor, d: Dispute) -> int | None:
    for brand_id in (d.opened_by_id, d.respondent_id):
        if can_act_for(actor, brand_id):
            return brand_id
    return None


def dispute_answer(
    *, actor: Actor, dispute: Dispute, answer: str, evidence: Sequence = (), now: datetime | None = None
) -> Dispute:
    """The respondent's answer (once, while open), with its evidence. Returns it ``answered``."""
    now = now or timezone.now()
    with transaction.atomic():
        d = _locked(dispute.pk)
        if not can_act_for(actor, d.respondent_id):
            raise error(
                "dispute", _("Only the responding brand's owners and marketers answer a dispute."), E.PERMISSION_DENIED
            )
        if d.state != DisputeState.OPEN:
            raise error("dispute", _("This dispute is no longer awaiting an answer."), E.DISPUTE_NOT_OPEN)
        text = clean_statement(answer, "answer", _("Answer"))
        checked = evidence_check(evidence)
        d.answer, d.answered_at, d.answered_by_user, d.state = text, now, actor.user, DisputeState.ANSWERED
        d.save(update_fields=["answer", "answered_at", "answered_by_user", "state"])
        evidence_store(dispute=d, brand_id=d.respondent_id, checked=checked, actor=actor, now=now)
        dispute_audit(actor, AuditAction.DISPUTE_ANSWERED, d, {**dispute_payload(d), "evidence": len(checked)})
        dispute_event(d, EventType.DISPUTE_ANSWERED, d.respondent_id)
    return d


def dispute_evidence_add(*, actor: Actor, dispute: Dispute, evidence: Sequence, now: datetime | None = None):
    """Either side adds evidence while the dispute is open or answered. Returns the new rows."""
    now = now or timezone.now()
    with transaction.atomic():
        d = _locked(dispute.pk)
        side = _side_of(actor, d)
        if side is None:
            raise error("dispute", _("Only the two brands add evidence to their dispute."), E.NOT_A_PARTY)
        if not d.is_open:
            raise error("dispute", _("This dispute is closed."), E.DISPUTE_NOT_OPEN)
        checked = evidence_check(evidence)
        if not checked:
            raise error("evidence", _("Add a file or an https link."), E.REQUIRED)
        rows = evidence_store(dispute=d, brand_id=side, checked=checked, actor=actor, now=now)
        dispute_audit(
            actor, AuditAction.DISPUTE_EVIDENCE_ADDED, d, {"dispute": d.pk, "side": side, "evidence": len(rows)}
        )
        dispute_event(
            d,
            EventType.DISPUTE_EVIDENCE_ADDED,
            side,
            side=(d.opened_by if side == d.opened_by_id else d.respondent).slug,
            evidence=len(rows),
        )
    return rows


def dispute_withdraw(*, actor: Actor, dispute: Dispute, now: datetime | None = None) -> Dispute:
    """The opener withdraws its dispute: nothing is adjusted; a disputed delivery report returns
    to awaiting the promoted side's answer with a fresh window (the promoter may also correct it)."""
    now = now or timezone.now()
    with transaction.atomic():
        d = _locked(dispute.pk)
        if not can_act_for(actor, d.opened_by_id):
            raise error("dispute", _("Only the brand that opened a dispute withdraws it."), E.PERMISSION_DENIED)
        if not d.is_open:
            raise error("dispute", _("This dispute is closed."), E.DISPUTE_NOT_OPEN)
        d.state, d.resolved_at = DisputeState.WITHDRAWN, now
        d.save(update_fields=["state", "resolved_at"])
        report = d.delivery_report
        if report is not None and report.state == DeliveryState.DISPUTED:
            from exchange import conf

            report.state = DeliveryState.REPORTED
            report.confirm_due_at = now + timedelta(days=conf.delivery_confirm_days())
            report.disputed_at, report.dispute_reason, report.dispute_note = None, "", ""
            report.save(update_fields=["state", "confirm_due_at", "disputed_at", "dispute_reason", "dispute_note"])
        dispute_audit(actor, AuditAction.DISPUTE_WITHDRAWN, d, dispute_payload(d))
        dispute_event(d, EventType.DISPUTE_RESOLVED, d.opened_by_id)
    return d


# --- the decision ----------------------------------------------------------------------------
def current_delivery_txn(report: DeliveryReport) -> LedgerTransaction | None:
    """The report's delivery posting now in force (the original or the last correction), or None."""
    return (
        LedgerTransaction.objects.filter(
            campaign_id=report.campaign_id,
            reason__in=[TxnReason.DELIVERY, TxnReason.DELIVERY_ADJUSTMENT],
            reverses__isnull=True,
            reversed_by__isnull=True,
            data__report=report.pk,
        )
        .order_by("-id")
        .first()
    )


def counted_value(report: DeliveryReport) -> int:
    """The value the ledger counts for a confirmed report (0 if nothing is posted)."""
    txn = current_delivery_txn(report)
    return int(txn.data.get("value_cents", 0)) if txn is not None else 0


def counted_reaches(campaign_id: int, reports) -> dict[int, int]:
    """``counted_reach`` of each of ``reports`` (confirmed reports of one campaign) in one
    query: report id → the reach the rollups count."""
    decided: dict[str, int] = {}
    for d in Dispute.objects.filter(campaign_id=campaign_id, state=DisputeState.RESOLVED).order_by(
        "resolved_at", "id"
    ):  # later decisions overwrite earlier ones
        for key, change in ((d.adjustment or {}).get("reports") or {}).items():
            decided[key] = int(change["after"]["reach"])
    return {r.pk: decided.get(str(r.pk), r.reach) for r in reports}


def counted_reach(report: DeliveryReport) -> int:
    """The reach the rollups count for a confirmed report: the last decision's, else the reported."""
    decided = (
        Dispute.objects.filter(
            campaign_id=report.campaign_id, state=DisputeState.RESOLVED, adjustment__reports__has_key=str(report.pk)
        )
        .order_by("-resolved_at", "-id")
        .first()
    )
    if decided is not None:
        return int(decided.adjustment["reports"][str(report.pk)]["after"]["reach"])
    return report.reach


def _check_adjustments(d: Dispute, outcome: str, adjustments: Mapping) -> dict[int, tuple[DeliveryReport, int]]:
    if outcome not in DisputeOutcome.values:
        raise error("outcome", _("Choose upheld or rejected."), E.INVALID if outcome else E.REQUIRED)
    adjustments = dict(adjustments or {})
    if outcome == DisputeOutcome.REJECTED and adjustments:
        raise error("adjustments", _("A rejected dispute adjusts nothing."), E.INVALID)
    if outcome == DisputeOutcome.UPHELD and not adjustments:
        raise error("adjustments", _("Enter the corrected reach of at least one report."), E.REQUIRED)
    allowed = DeliveryReport.objects.filter(campaign_id=d.campaign_id)  # locked later, placement first
    if d.subject == DisputeSubject.DELIVERY:
        allowed = allowed.filter(pk=d.delivery_report_id)
    found = {r.pk: r for r in allowed.select_related("placement__placement", "placement__leg")}
    result = {}
    for raw_id, reach in adjustments.items():
        try:
            rid = int(raw_id)
        except (TypeError, ValueError):
            rid = None
        report = found.get(rid)
        if report is None:
            raise error("adjustments", _("Adjust only the disputed delivery reports."), E.INVALID)
        if isinstance(reach, bool) or not isinstance(reach, int) or reach < 0:
            raise error("adjustments", _("A corrected reach is a whole number, 0 or more."), E.REACH_NEGATIVE)
        # The same ceiling a report has (a multiple of the promised quantity): a corrected reach
        # is a correction, and a figure beyond it would overflow the ledger's amounts.
        cap = report.placement.placement.quantity * conf.delivery_reach_cap_multiple()
        if reach > cap:
            raise error(
                "adjustments",
                _("A corrected reach of %(reach)s is more than can be reported for this placement (at most %(cap)s).")
                % {"reach": number(reach), "cap": number(cap)},
                E.REACH_ABOVE_PROMISED,
            )
        if report.state == DeliveryState.REPORTED:
            raise error("adjustments", _("This report still awaits the other side's answer."), E.INVALID)
        result[rid] = (report, reach)
    return result


def _correct_confirmed(d: Dispute, report: DeliveryReport, reach: int, now: datetime | None = None) -> dict:
    cp = report.placement
    new_value = valuation.placement_value(reach, cp.placement.rate_cents, cp.placement.unit)
    txn = current_delivery_txn(report)
    old_value = int(txn.data.get("value_cents", 0)) if txn is not None else 0
    old_reach = counted_reach(report)
    key = f"dispute:{d.pk}:report:{report.pk}"
    if txn is not None:
        rules.delivery_correct(txn=txn, key=key, value_cents=new_value, at=now)
    elif new_value > 0:
        # Nothing posted (the report counted 0): post the decided value, as a correction.
        ledger_post(
            key=f"{key}:corrected",
            reason=TxnReason.DELIVERY_ADJUSTMENT,
            campaign=d.campaign,
            lines=[
                Line(account(brand=cp.leg.promoter_id, kind=AccountKind.VALUE_DELIVERED), -new_value),
                Line(account(brand=cp.leg.promoted_id, kind=AccountKind.VALUE_RECEIVED), new_value),
            ],
            data={"report": report.pk, "version": report.version, "value_cents": new_value},
            memo=f"corrected delivery of report {report.pk}",
            at=now,
        )
    store_days = cp.placement.unit == PricingUnit.STORE_DAY
    reach_delta = 0 if store_days else reach - int(old_reach)
    rollup_add(
        {
            (cp.leg_id, day_of(report.delivered_at)): {
                "delivered_reach": reach_delta,
                "delivered_value_cents": new_value - old_value,
            }
        }
    )
    return {
        "before": {"reach": int(old_reach), "value_cents": old_value},
        "after": {"reach": reach, "value_cents": new_value},
    }


def dispute_resolve(
    *,
    actor: Actor,
    dispute: Dispute,
    outcome: str,
    decision: str,
    adjustments: Mapping[int, int] | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Decide a dispute (platform admins). Returns it ``resolved`` with ``adjustment`` =
    ``{"reports": {"<id>": {"before": {...}, "after": {...}}}, "settlement": …}``."""
    now = now or timezone.now()
    if not actor.is_admin:
        raise error("dispute", _("Only platform admins resolve disputes."), E.PERMISSION_DENIED)
    with transaction.atomic():
        d = _locked(dispute.pk)
        if not d.is_open:
            raise error("dispute", _("This dispute is closed."), E.DISPUTE_NOT_OPEN)
        try:
            text = clean_statement(decision, "decision", _("Decision"))
        except ValidationError as exc:
            if exc.error_dict["decision"][0].code == E.REQUIRED:
                raise error("decision", _("Write the decision and its reasons."), E.DECISION_REQUIRED) from exc
            raise
        adjust = _check_adjustments(d, outcome, adjustments or {})
        changes: dict = {}
        # Lock the placements in the order the delivery service does (placement, then report).
        for rid, (_unlocked, reach) in sorted(adjust.items()):
            locked = delivery_service._report_locked(rid)
            if locked.state == DeliveryState.DISPUTED:
                delivery_service._confirm(locked, actor=actor, now=now, auto=False, decided_reach=reach)
                value = counted_value(locked)
                changes[str(rid)] = {
                    "before": {"reach": locked.reach, "value_cents": None},
                    "after": {"reach": reach, "value_cents": value},
                }
            else:
                changes[str(rid)] = _correct_confirmed(d, locked, reach, now)
        # The disputed report not adjusted (rejected): confirmed as reported.
        if d.delivery_report_id and d.delivery_report_id not in adjust:
            locked = delivery_service._report_locked(d.delivery_report_id)
            if locked.state == DeliveryState.DISPUTED:
                delivery_service._confirm(locked, actor=actor, now=now, auto=False)
        d.state, d.outcome, d.decision = DisputeState.RESOLVED, outcome, text
        d.resolved_at, d.resolved_by = now, actor.user
        d.adjustment = {"reports": changes}
        d.save()
        campaign = Campaign.objects.get(pk=d.campaign_id)
        after = settlements.settlement_after_dispute(campaign=campaign, dispute=d, actor=actor, now=now)
        if after.settlement is not None:
            d.adjustment["settlement"] = {
                "id": after.settlement.pk,
                "state": after.settlement.state,
                "gap_value_cents": after.settlement.gap_value_cents,
                "refund_value_cents": after.refund_value_cents,
            }
            d.save(update_fields=["adjustment"])
        if after.refund_value_cents > 0:
            # Imported here: refunds imports the payment services, which import settlements.
            from exchange.services import refunds

            refunds.refund_issue(
                settlement=after.settlement, gap_value_cents=after.refund_value_cents, dispute=d, actor=actor
            )
        dispute_audit(
            actor, AuditAction.DISPUTE_RESOLVED, d, {**dispute_payload(d), "decision": text, "adjustment": d.adjustment}
        )
        dispute_event(d, EventType.DISPUTE_RESOLVED, None)
    return d
