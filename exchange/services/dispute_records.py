"""The parts of a dispute every path that opens or closes one shares: checking and storing
evidence, the outbox payload, the audit of both brands, and creating the row.

Kept apart from ``exchange.services.disputes`` so the delivery service (whose
``delivery_dispute`` opens a Dispute and whose re-report supersedes one) can use them without
an import cycle: ``disputes`` imports ``delivery``; ``delivery`` imports only this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from exchange import conf
from exchange.errors import ExchangeError as E
from exchange.models import (
    OPEN_DISPUTE_STATES,
    Campaign,
    DeliveryReport,
    Dispute,
    DisputeEvidence,
    DisputeSubject,
    EventType,
)
from exchange.outbox import emit
from exchange.proofs import PROOF_TYPES, proof_format
from huiliu.text import clean_free_text
from partners.actors import Actor
from partners.models import AuditAction, Brand
from partners.services import audit

MAX_STATEMENT = 4000
MAX_NOTE = 500
MAX_URL = 500
MAX_EVIDENCE_PER_CALL = 10
MAX_EVIDENCE_PER_SIDE = 20
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: an uploaded file (PNG/JPEG/WebP image or PDF) and/or an https link."""

    file: File | None = None
    url: str = ""
    note: str = ""


def _as_evidence(item) -> Evidence:
    if isinstance(item, Evidence):
        return item
    if isinstance(item, dict):
        return Evidence(file=item.get("file"), url=item.get("url") or "", note=item.get("note") or "")
    if isinstance(item, str):
        return Evidence(url=item)
    return Evidence(file=item)


def _file_extension(upload: File) -> str | None:
    """The extension to store an upload under (``png``/``jpg``/``webp``/``pdf``), decided from
    its content, or None if it is neither an accepted image nor a PDF."""
    kind = proof_format(upload)
    if kind is not None:
        return PROOF_TYPES[kind][1]
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    return "pdf" if head == PDF_MAGIC else None


def _clean_url(url) -> str | None:
    """The link, stripped, or None if it is not an https address without credentials."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url:
        return ""
    if len(url) > MAX_URL:
        return None
    try:
        parts = urlsplit(url)
        URLValidator(schemes=["https"])(url)
    except (ValueError, ValidationError):
        return None
    if parts.scheme.lower() != "https" or parts.username is not None or parts.password is not None:
        return None
    return url


def evidence_check(items) -> list[tuple[Evidence, str | None]]:
    """Validate evidence; returns ``[(evidence, file extension or None)]`` or raises a
    ``ValidationError`` on ``evidence`` (code ``evidence_invalid``) naming the first bad item."""
    items = [_as_evidence(i) for i in (items or [])]
    if len(items) > MAX_EVIDENCE_PER_CALL:
        raise ValidationError(
            {
                "evidence": ValidationError(
                    _("Add at most %(n)d pieces of evidence at a time.") % {"n": MAX_EVIDENCE_PER_CALL},
                    code=E.EVIDENCE_INVALID,
                )
            }
        )
    checked = []
    limit = conf.proof_max_bytes()
    for n, item in enumerate(items, start=1):

        def bad(message: str, n=n):
            return ValidationError(
                {
                    "evidence": ValidationError(
                        _("Evidence %(n)d: %(problem)s") % {"n": n, "problem": message}, code=E.EVIDENCE_INVALID
                    )
                }
            )

        url = _clean_url(item.url)
        if url is None:
            raise bad(_("the link must be an https:// address (at most %(n)d characters).") % {"n": MAX_URL})
        try:
            note = clean_free_text(item.note or "", _("Note"), max_length=MAX_NOTE)
        except ValidationError as exc:
            raise bad(exc.messages[0]) from exc
        extension = None
        if item.file is not None:
            size = getattr(item.file, "size", None)
            if size is not None and size > limit:
                raise bad(_("the file is larger than %(mb)s MB.") % {"mb": f"{limit / (1024 * 1024):g}"})
            extension = _file_extension(item.file)
            if extension is None:
                raise bad(_("the file must be a PNG, JPEG or WebP image or a PDF."))
        if extension is None and not url:
            raise bad(_("add a file or an https link."))
        checked.append((Evidence(file=item.file, url=url, note=note), extension))
    return checked


def evidence_store(
    *, dispute: Dispute, brand_id: int, checked: list[tuple[Evidence, str | None]], actor: Actor, now: datetime
) -> list[DisputeEvidence]:
    """Store checked evidence for one side (files under random names, see ``evidence_upload_to``)."""
    if not checked:
        return []
    already = DisputeEvidence.objects.filter(dispute=dispute, brand_id=brand_id).count()
    if already + len(checked) > MAX_EVIDENCE_PER_SIDE:
        raise ValidationError(
            {
                "evidence": ValidationError(
                    _("Each side adds at most %(n)d pieces of evidence to a dispute.") % {"n": MAX_EVIDENCE_PER_SIDE},
                    code=E.EVIDENCE_INVALID,
                )
            }
        )
    stored = []
    for item, extension in checked:
        row = DisputeEvidence(
            dispute=dispute, brand_id=brand_id, url=item.url, note=item.note, created_at=now, created_by=actor.user
        )
        if extension is not None:
            row.file.save(f"evidence.{extension}", item.file, save=False)
        row.save()
        stored.append(row)
    return stored


def clean_statement(value, field: str, label: str) -> str:
    """A required free text (statement, answer, decision), at most ``MAX_STATEMENT`` characters."""
    try:
        text = clean_free_text(value or "", label, max_length=MAX_STATEMENT)
    except ValidationError as exc:
        code = E.NOTE_TOO_LONG if len(str(value or "")) > MAX_STATEMENT else (exc.code or E.INVALID)
        raise ValidationError({field: ValidationError(exc.messages[0], code=code)}) from exc
    if not text:
        raise ValidationError({field: ValidationError(_("Write a few words."), code=E.REQUIRED)})
    return text


def dispute_payload(d: Dispute) -> dict:
    return {
        "dispute": d.pk,
        "campaign": d.campaign_id,
        "subject": d.subject,
        "report": d.delivery_report_id,
        "state": d.state,
        "reason": d.reason,
        "opened_by": d.opened_by.slug,
        "respondent": d.respondent.slug,
        "outcome": d.outcome or "",
    }


def dispute_audit(actor: Actor, action: AuditAction, d: Dispute, data: dict) -> None:
    for brand in (d.opened_by, d.respondent):
        audit(actor=actor, action=action, obj=d, brand=brand, data=data)


def dispute_event(d: Dispute, type_: str, actor_brand_id: int | None, **extra) -> None:
    emit(
        type=type_,
        proposal=d.campaign.proposal,
        actor_brand_id=actor_brand_id,
        payload={**dispute_payload(d), **extra},
    )


def dispute_create(
    *,
    actor: Actor,
    campaign: Campaign,
    subject: str,
    report: DeliveryReport | None,
    opened_by: Brand,
    respondent: Brand,
    reason: str,
    statement: str,
    checked: list[tuple[Evidence, str | None]],
    now: datetime,
) -> Dispute:
    """Create an open dispute with its opener's evidence, audited and in the outbox (the caller
    has checked who may open it and holds the locks; runs in the caller's transaction)."""
    taken = Dispute.objects.filter(state__in=OPEN_DISPUTE_STATES, campaign=campaign)
    taken = (
        taken.filter(subject=DisputeSubject.DELIVERY, delivery_report=report)
        if report is not None
        else taken.filter(subject=DisputeSubject.RESULT)
    )
    if taken.exists():
        raise ValidationError(
            {"subject": ValidationError(_("A dispute on this is already open."), code=E.DISPUTE_ALREADY_OPEN)}
        )
    d = Dispute.objects.create(
        campaign=campaign,
        subject=subject,
        delivery_report=report,
        opened_by=opened_by,
        respondent=respondent,
        reason=reason,
        statement=statement,
        opened_at=now,
        opened_by_user=actor.user,
    )
    d.campaign = campaign
    evidence_store(dispute=d, brand_id=opened_by.pk, checked=checked, actor=actor, now=now)
    dispute_audit(
        actor,
        AuditAction.DISPUTE_OPENED,
        d,
        {**dispute_payload(d), "statement": statement, "evidence": len(checked)},
    )
    dispute_event(d, EventType.DISPUTE_OPENED, opened_by.pk)
    return d
