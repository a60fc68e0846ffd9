"""Delivery reports: the promoter says what it delivered on a placement; the promoted side
confirms or disputes it within ``EXCHANGE_DELIVERY_CONFIRM_DAYS``; silence confirms it.

* ``delivery_report`` — the promoter's members (owner, marketer) or write keys, while the
  campaign is live or completed. A first report creates the placement's report; a re-report
  (while ``reported`` or ``disputed``) replaces the figures, keeps the previous proof unless a
  new one is given, and restarts the answer window. Each version is in the audit log.
* ``delivery_confirm`` / ``delivery_dispute`` — the promoted side's members or write keys,
  only while ``reported`` and before ``confirm_due_at``.
* ``deliveries_autoconfirm`` (beat, hourly) — confirms what nobody answered in time.

Confirming sets ``CampaignPlacement.delivery_confirmed_at`` (the completion rule in
``exchange.services.campaigns``: a report that is disputed or still unanswered holds the
campaign open) and adds ``delivered_reach`` / ``delivered_value_cents`` (the reach at the
placement's rate, ``valuation.placement_value``) to the leg's rollup row of the delivery's day.
Every change is audited for both brands and written to the outbox, whose dispatch notifies the
other side's people. Each service runs in one transaction: on error nothing changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import conf, valuation
from exchange.errors import ExchangeError as E
from exchange.ledger import rules
from exchange.models import (
    OPEN_DISPUTE_STATES,
    CampaignPlacement,
    DeliveryReport,
    Dispute,
    DisputeState,
    DisputeSubject,
    EventType,
    PricingUnit,
)
from exchange.outbox import emit
from exchange.proofs import PROOF_TYPES, proof_format
from exchange.services import dispute_records
from exchange.services.common import can_act_for, error
from exchange.services.rollups import day_of, rollup_add
from exchange.states import CampaignState, DeliveryState, DisputeReason
from huiliu.text import clean_free_text
from partners.actors import Actor
from partners.models import AuditAction
from partners.services import audit

MAX_PROOF_URL = 500
MAX_NOTE = 2000
CLOCK_SKEW = timedelta(minutes=10)  # a delivery "now" on a client whose clock runs a little fast
SWEEP_LIMIT = 1000
RUNNING = (CampaignState.LIVE, CampaignState.COMPLETED)


# --- shared ----------------------------------------------------------------------------------
def _audit_both(actor: Actor, action: AuditAction, report: DeliveryReport, data: dict) -> None:
    campaign = report.campaign
    for brand in (campaign.brand_a, campaign.brand_b):
        audit(actor=actor, action=action, obj=report, brand=brand, data=data)


def _payload(report: DeliveryReport) -> dict:
    cp = report.placement
    leg = cp.leg
    return {
        "campaign": report.campaign_id,
        "proposal": report.campaign.proposal_id,
        "report": report.pk,
        "placement": cp.placement_id,
        "leg": leg.pk,
        "promoter": leg.promoter.slug,
        "promoted": leg.promoted.slug,
        "state": report.state,
        "version": report.version,
        "reach": report.reach,
        "promised": cp.placement.quantity,
        "unit": cp.placement.unit,
        "delivered_at": report.delivered_at.isoformat(),
        "confirm_due_at": report.confirm_due_at.isoformat(),
        "dispute_reason": report.dispute_reason,
    }


def _figures(report: DeliveryReport) -> dict:
    """What an audit record keeps of one version (the history of re-reports)."""
    return {
        "placement": report.placement.placement_id,
        "version": report.version,
        "reach": report.reach,
        "delivered_at": report.delivered_at.isoformat(),
        "proof_image": report.proof_image.name if report.proof_image else "",
        "proof_url": report.proof_url,
        "note": report.note,
    }


def _placement_locked(pk: int) -> CampaignPlacement:
    return (
        CampaignPlacement.objects.select_for_update(of=("self",))
        .select_related(
            "placement", "leg__promoter", "leg__promoted", "leg__campaign__brand_a", "leg__campaign__brand_b"
        )
        .get(pk=pk)
    )


def _report_locked(pk: int) -> DeliveryReport:
    # The placement row first, then the report: the order ``delivery_report`` locks them in,
    # so a correction racing an answer waits instead of deadlocking.
    placement_id = DeliveryReport.objects.filter(pk=pk).values_list("placement_id", flat=True).get()
    cp = _placement_locked(placement_id)
    report = DeliveryReport.objects.select_for_update(of=("self",)).get(pk=pk)
    report.placement, report.campaign = cp, cp.leg.campaign
    return report


def _clean_text(value, field: str, label: str, errors: dict) -> str:
    try:
        return clean_free_text(value, label, max_length=MAX_NOTE)
    except ValidationError as exc:
        errors[field] = ValidationError(
            exc.messages[0], code=E.NOTE_TOO_LONG if len(str(value)) > MAX_NOTE else exc.code
        )
        return ""


# --- input checks (each adds its field's error; all are reported at once) ---------------------
def _check_reach(reach, cp: CampaignPlacement, errors: dict) -> None:
    if isinstance(reach, bool) or not isinstance(reach, int):
        errors["reach"] = ValidationError(_("Enter the delivered reach as a whole number."), code=E.INVALID)
        return
    if reach < 0:
        errors["reach"] = ValidationError(_("The delivered reach cannot be negative."), code=E.REACH_NEGATIVE)
        return
    cap = cp.placement.quantity * conf.delivery_reach_cap_multiple()
    if reach > cap:
        errors["reach"] = ValidationError(
            _(
                "%(reach)s is more than %(multiple)d× the %(promised)s promised; check the figure "
                "(at most %(cap)s can be reported)."
            )
            % {
                "reach": f"{reach:,}",
                "multiple": conf.delivery_reach_cap_multiple(),
                "promised": f"{cp.placement.quantity:,}",
                "cap": f"{cap:,}",
            },
            code=E.REACH_ABOVE_PROMISED,
        )


def _check_delivered_at(delivered_at, cp: CampaignPlacement, now: datetime, errors: dict) -> None:
    if not isinstance(delivered_at, datetime) or timezone.is_naive(delivered_at):
        errors["delivered_at"] = ValidationError(_("Enter when the placement was delivered."), code=E.INVALID)
        return
    if delivered_at > now + CLOCK_SKEW:
        errors["delivered_at"] = ValidationError(
            _("The delivery time is in the future; report a delivery once it has happened."),
            code=E.DELIVERED_IN_FUTURE,
        )
        return
    grace = timedelta(days=conf.delivery_window_grace_days())
    if not (cp.starts_at - grace <= delivered_at < cp.ends_at + grace):
        tz = timezone.get_default_timezone()
        errors["delivered_at"] = ValidationError(
            _(
                "The delivery time must fall within the placement's window (%(start)s – %(end)s, "
                "give or take %(days)d days)."
            )
            % {
                "start": timezone.localtime(cp.starts_at, tz).strftime("%Y-%m-%d"),
                "end": timezone.localtime(cp.ends_at - timedelta(seconds=1), tz).strftime("%Y-%m-%d"),
                "days": conf.delivery_window_grace_days(),
            },
            code=E.DELIVERED_OUTSIDE_WINDOW,
        )


def _check_proof_url(url, errors: dict) -> str:
    url = (url or "").strip() if isinstance(url, str) else None
    if url is None:
        errors["proof_url"] = ValidationError(_("The proof link must be text."), code=E.PROOF_URL_INVALID)
        return ""
    if not url:
        return ""
    invalid = ValidationError(_("The proof link is not a valid web address."), code=E.PROOF_URL_INVALID)
    if len(url) > MAX_PROOF_URL:
        errors["proof_url"] = ValidationError(
            _("A proof link is at most %(n)d characters.") % {"n": MAX_PROOF_URL}, code=E.PROOF_URL_INVALID
        )
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        errors["proof_url"] = invalid
        return ""
    if parts.scheme.lower() != "https":
        errors["proof_url"] = ValidationError(
            _("The proof link must be an https:// address."), code=E.PROOF_URL_NOT_HTTPS
        )
        return ""
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        errors["proof_url"] = invalid
        return ""
    if parts.username is not None or parts.password is not None:
        errors["proof_url"] = invalid
        return ""
    return url


def _check_proof_image(upload: File | None, errors: dict) -> str | None:
    """The extension to store ``upload`` under, or None (no upload, or an error recorded)."""
    if upload is None:
        return None
    limit = conf.proof_max_bytes()
    if upload.size is not None and upload.size > limit:
        errors["proof_image"] = ValidationError(
            _("The proof image is larger than %(mb)s MB; upload a smaller screenshot.")
            % {"mb": f"{limit / (1024 * 1024):g}"},
            code=E.PROOF_TOO_LARGE,
        )
        return None
    kind = proof_format(upload)
    if kind is None:
        errors["proof_image"] = ValidationError(
            _("The proof must be a PNG, JPEG or WebP image."), code=E.PROOF_NOT_IMAGE
        )
        return None
    return PROOF_TYPES[kind][1]


# --- reporting -------------------------------------------------------------------------------
def delivery_report(
    *,
    actor: Actor,
    placement: CampaignPlacement,
    reach: int,
    delivered_at: datetime,
    proof_image: File | None = None,
    proof_url: str = "",
    note: str = "",
    now: datetime | None = None,
) -> DeliveryReport:
    """Report (or correct) the delivery of ``placement`` for its promoter. Returns the
    placement's current report, ``reported`` with a fresh answer window."""
    now = now or timezone.now()
    with transaction.atomic():
        cp = _placement_locked(placement.pk)
        leg, campaign = cp.leg, cp.leg.campaign
        if not can_act_for(actor, leg.promoter_id):
            raise error(
                "placement",
                _("Only the promoting brand's owners, marketers and write keys report its delivery."),
                E.PERMISSION_DENIED,
            )
        if campaign.state not in RUNNING:
            raise error(
                "placement",
                _("Delivery can be reported once the campaign is live."),
                E.CAMPAIGN_NOT_RUNNING,
            )
        report = DeliveryReport.objects.select_for_update().filter(placement=cp).first()
        if report is None and campaign.state == CampaignState.COMPLETED:
            # Completed without a report: the placement counted as delivered when the answer
            # window lapsed; a first report now would reopen a settled campaign.
            raise error(
                "placement",
                _("This campaign has completed; a delivery can no longer be reported for it."),
                E.CAMPAIGN_NOT_RUNNING,
            )
        if report is not None and report.state == DeliveryState.CONFIRMED:
            raise error(
                "placement",
                _("This delivery is already confirmed; it can no longer be changed."),
                E.DELIVERY_ALREADY_CONFIRMED,
            )
        if report is not None and report.state == DeliveryState.REPORTED and now >= report.confirm_due_at:
            raise error(
                "placement",
                _("The other brand's time to answer has passed; this delivery counts as confirmed."),
                E.CONFIRM_WINDOW_CLOSED,
            )
        errors: dict = {}
        _check_reach(reach, cp, errors)
        _check_delivered_at(delivered_at, cp, now, errors)
        url = _check_proof_url(proof_url, errors)
        extension = _check_proof_image(proof_image, errors)
        note = _clean_text(note, "note", _("Note"), errors)
        has_old_proof = report is not None and bool(report.proof_image or report.proof_url)
        if not errors and extension is None and not url and not has_old_proof:
            errors["proof_image"] = ValidationError(
                _("Add proof: a screenshot of the placement or an https link to it."), code=E.PROOF_REQUIRED
            )
        if errors:
            raise ValidationError(errors)

        superseded = None
        if report is None:
            report = DeliveryReport(campaign=campaign, placement=cp, version=1)
        else:
            report.version += 1
            if report.state == DeliveryState.DISPUTED:
                superseded = (
                    Dispute.objects.select_for_update()
                    .select_related("opened_by", "respondent", "campaign__proposal")
                    .filter(delivery_report=report, state__in=OPEN_DISPUTE_STATES)
                    .first()
                )
        report.campaign, report.placement = campaign, cp
        report.reach = reach
        report.delivered_at = delivered_at
        report.note = note
        if url:
            report.proof_url = url
        if extension is not None:
            report.proof_image.save(f"proof.{extension}", proof_image, save=False)
        report.state = DeliveryState.REPORTED
        report.reported_at = now
        report.reported_by = actor.user
        report.reported_by_key = actor.api_key
        report.confirm_due_at = now + timedelta(days=conf.delivery_confirm_days())
        report.disputed_at = None
        report.dispute_reason = ""
        report.dispute_note = ""
        report.save()
        _audit_both(actor, AuditAction.DELIVERY_REPORTED, report, _figures(report))
        if superseded is not None:
            _supersede(superseded, actor=actor, report=report, now=now)
        emit(
            type=EventType.DELIVERY_REPORTED,
            proposal=campaign.proposal,
            actor_brand_id=leg.promoter_id,
            payload=_payload(report),
        )
    return report


def _supersede(dispute: Dispute, *, actor: Actor, report: DeliveryReport, now: datetime) -> None:
    """The promoter's corrected report answers the dispute on the old figures: the dispute
    closes as withdrawn (superseded, recorded in its decision text and audit) and the promoted
    side answers the new version afresh — confirm it, or dispute it again."""
    dispute.state = DisputeState.WITHDRAWN
    dispute.resolved_at = now
    dispute.decision = _("Superseded by the promoting brand's corrected report (version %(v)d).") % {
        "v": report.version
    }
    dispute.adjustment = {"superseded_by_version": report.version}
    dispute.save(update_fields=["state", "resolved_at", "decision", "adjustment"])
    dispute_records.dispute_audit(
        actor,
        AuditAction.DISPUTE_WITHDRAWN,
        dispute,
        {**dispute_records.dispute_payload(dispute), "superseded_by_version": report.version},
    )
    dispute_records.dispute_event(dispute, EventType.DISPUTE_RESOLVED, report.placement.leg.promoter_id)


# --- answering -------------------------------------------------------------------------------
def _check_answerable(actor: Actor, report: DeliveryReport, now: datetime) -> None:
    if not can_act_for(actor, report.placement.leg.promoted_id):
        raise error(
            "report",
            _("Only the promoted brand's owners, marketers and write keys answer a delivery report."),
            E.PERMISSION_DENIED,
        )
    if report.state == DeliveryState.CONFIRMED:
        raise error("report", _("This delivery is already confirmed."), E.DELIVERY_ALREADY_CONFIRMED)
    if report.state != DeliveryState.REPORTED:
        raise error(
            "report",
            _("This delivery is disputed; it waits for the promoting brand's corrected report."),
            E.DELIVERY_NOT_AWAITING,
        )
    if now >= report.confirm_due_at:
        raise error(
            "report",
            _("The time to answer this report has passed; it counts as confirmed."),
            E.CONFIRM_WINDOW_CLOSED,
        )


def _confirm(
    report: DeliveryReport, *, actor: Actor, now: datetime, auto: bool, decided_reach: int | None = None
) -> None:
    """Confirm ``report``; ``decided_reach`` (a dispute decision) counts that reach instead of
    the reported one — the report keeps what the promoter claimed, the ledger and rollups what
    the platform decided."""
    cp = report.placement
    counted = report.reach if decided_reach is None else decided_reach
    report.state = DeliveryState.CONFIRMED
    report.confirmed_at = now
    report.auto_confirmed = auto
    report.confirmed_by = None if auto else actor.user
    report.confirmed_by_key = None if auto else actor.api_key
    report.save(update_fields=["state", "confirmed_at", "auto_confirmed", "confirmed_by", "confirmed_by_key"])
    cp.delivery_confirmed_at = now
    cp.save(update_fields=["delivery_confirmed_at"])
    value = valuation.placement_value(counted, cp.placement.rate_cents, cp.placement.unit)
    # Store-days are not reach (the promise leaves them out too: selectors.campaign_metrics);
    # their value counts all the same.
    reach = 0 if cp.placement.unit == PricingUnit.STORE_DAY else counted
    rollup_add({(cp.leg_id, day_of(report.delivered_at)): {"delivered_reach": reach, "delivered_value_cents": value}})
    # The reciprocity ledger: the promoter delivered this value to the promoted brand.
    rules.post_delivery(
        campaign=report.campaign,
        report_id=report.pk,
        version=report.version,
        promoter_id=cp.leg.promoter_id,
        promoted_id=cp.leg.promoted_id,
        value_cents=value,
        at=now,
    )
    _audit_both(
        actor,
        AuditAction.DELIVERY_CONFIRMED,
        report,
        {
            "placement": cp.placement_id,
            "version": report.version,
            "reach": counted,
            "automatic": auto,
            **({"decided": True} if decided_reach is not None else {}),
        },
    )
    emit(
        type=EventType.DELIVERY_CONFIRMED,
        proposal=report.campaign.proposal,
        actor_brand_id=None if auto else cp.leg.promoted_id,
        payload=_payload(report),
    )


def delivery_confirm(*, actor: Actor, report: DeliveryReport, now: datetime | None = None) -> DeliveryReport:
    """Confirm a report awaiting the promoted side's answer. Returns it, ``confirmed``."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _report_locked(report.pk)
        _check_answerable(actor, locked, now)
        _confirm(locked, actor=actor, now=now, auto=False)
    return locked


def delivery_dispute(
    *,
    actor: Actor,
    report: DeliveryReport,
    reason: str,
    note: str = "",
    now: datetime | None = None,
    evidence=(),
) -> DeliveryReport:
    """Dispute a report awaiting the promoted side's answer, with a reason (a note is required
    for "other"). The report stays disputed — holding the campaign open — until the promoter
    re-reports (which supersedes the dispute) or a platform admin resolves the Dispute this
    opens (``exchange.services.disputes``). ``evidence`` (optional) is stored with the
    dispute, like ``dispute_open``'s. Returns the report, ``disputed``."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _report_locked(report.pk)
        _check_answerable(actor, locked, now)
        errors: dict = {}
        if not reason:
            errors["reason"] = ValidationError(_("Choose why you dispute this delivery."), code=E.REQUIRED)
        elif reason not in DisputeReason.values:
            errors["reason"] = ValidationError(_("Choose one of the listed reasons."), code=E.INVALID)
        note = _clean_text(note, "note", _("Note"), errors)
        if reason == DisputeReason.OTHER and not note and "note" not in errors:
            errors["note"] = ValidationError(
                _("Say in a few words what is wrong with this delivery."), code=E.REASON_REQUIRED
            )
        checked = []
        try:
            checked = dispute_records.evidence_check(evidence)
        except ValidationError as exc:
            errors.update(exc.error_dict)
        if errors:
            raise ValidationError(errors)
        locked.state = DeliveryState.DISPUTED
        locked.disputed_at = now
        locked.dispute_reason = reason
        locked.dispute_note = note
        locked.save(update_fields=["state", "disputed_at", "dispute_reason", "dispute_note"])
        _audit_both(
            actor,
            AuditAction.DELIVERY_DISPUTED,
            locked,
            {"placement": locked.placement.placement_id, "version": locked.version, "reason": reason, "note": note},
        )
        emit(
            type=EventType.DELIVERY_DISPUTED,
            proposal=locked.campaign.proposal,
            actor_brand_id=locked.placement.leg.promoted_id,
            payload=_payload(locked),
        )
        leg = locked.placement.leg
        dispute_records.dispute_create(
            actor=actor,
            campaign=locked.campaign,
            subject=DisputeSubject.DELIVERY,
            report=locked,
            opened_by=leg.promoted,
            respondent=leg.promoter,
            reason=reason,
            statement=note or str(DisputeReason(reason).label),
            checked=checked,
            now=now,
        )
    return locked


def deliveries_autoconfirm(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Confirm every report nobody answered before its ``confirm_due_at`` (beat). Each in its
    own transaction, the row locked and its state asked again. Returns how many."""
    now = now or timezone.now()
    due = list(
        DeliveryReport.objects.filter(state=DeliveryState.REPORTED, confirm_due_at__lte=now)
        .order_by("confirm_due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    confirmed = 0
    system = Actor.system_actor()
    for pk in due:
        with transaction.atomic():
            report = _report_locked(pk)
            if report.state != DeliveryState.REPORTED or report.confirm_due_at > now:
                continue
            _confirm(report, actor=system, now=now, auto=True)
            confirmed += 1
    return confirmed
