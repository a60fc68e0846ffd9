"""A brand's channels: replacing them, and who may vouch for their numbers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiliu.text import normalise_name
from partners import validation
from partners.actors import Actor
from partners.channels import same_channel_numbers
from partners.errors import PartnersError as E
from partners.models import AuditAction, Brand, Channel, Verification
from partners.services.audit import audit
from partners.services.common import _denied, _notify_changed


def _check_verification(actor: Actor, raw_channels: Any, *, stored: dict[tuple[str, str], Channel]) -> None:
    """Only platform admins (and the system) vouch for a channel's numbers.

    A member or API key may leave ``verification`` out, send ``self_reported``, or send back
    the value stored for that channel (a client echoing what it read); any other value is
    refused with ``permission_denied`` on ``channels[i].verification`` — nothing is changed.
    """
    if actor.is_admin or not isinstance(raw_channels, (list, tuple)):
        return
    errors = {}
    for i, raw in enumerate(raw_channels):
        sent = raw.get("verification") if isinstance(raw, dict) else None
        if not sent or sent == Verification.SELF_REPORTED:
            continue
        label = raw.get("label")
        # As clean_channels stores it (this runs after it, so the label is valid text).
        old = stored.get((str(raw.get("type") or "").strip(), normalise_name(label) if isinstance(label, str) else ""))
        if old is None or old.verification != sent:
            errors[f"channels[{i}].verification"] = ValidationError(
                _("Only the platform can verify a channel; leave verification empty or self_reported."),
                code=E.PERMISSION_DENIED,
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def brand_channels_set(*, actor: Actor, brand: Brand, channels: list[dict[str, Any]]) -> list[Channel]:
    """Replace the brand's channels with ``channels`` and recompute its scale.

    Verification is the platform's word, not the brand's: a channel whose type, label, size
    and active rate are unchanged keeps its verification and ``verified_at``; one whose size
    or active rate changed goes back to ``self_reported`` (listed in the audit event's
    ``verification_reset``). Only admins may set a verification (see ``_check_verification``);
    when an admin sends one it is applied, ``verified_at`` being now when the level changes.
    """
    if not actor.can_edit(brand.pk):
        raise _denied()
    cleaned = validation.clean_channels(channels)
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    stored = {(c.type, c.label): c for c in brand.channels.all()}
    _check_verification(actor, channels, stored=stored)
    now = timezone.now()
    rows: list[Channel] = []
    reset: list[dict[str, str]] = []
    for raw, item in zip(channels, cleaned, strict=True):
        old = stored.get((item["type"], item["label"]))
        sent = raw.get("verification")
        item = {k: v for k, v in item.items() if k != "verification"}
        verification, verified_at = Verification.SELF_REPORTED, None
        if actor.is_admin and sent:
            verification = sent
            if old is not None and old.verification == sent:
                verified_at = old.verified_at
            elif sent != Verification.SELF_REPORTED:
                verified_at = now
        elif old is not None and same_channel_numbers(old.size, old.active_rate, item["size"], item["active_rate"]):
            verification, verified_at = old.verification, old.verified_at
        elif old is not None and old.verification != Verification.SELF_REPORTED:
            reset.append({"type": old.type, "label": old.label, "from": old.verification})
        rows.append(
            Channel(
                brand=brand,
                **item,
                verification=verification,
                verified_at=verified_at,
                created_at=old.created_at if old is not None else now,
            )
        )
    brand.channels.all().delete()
    created = Channel.objects.bulk_create(rows)
    brand.active_audience = validation.active_audience(cleaned)
    brand.save(update_fields=["active_audience", "updated_at"])
    data: dict[str, Any] = {"channels": len(cleaned), "active_audience": brand.active_audience}
    if reset:
        data["verification_reset"] = reset
    audit(actor=actor, action=AuditAction.BRAND_CHANNELS_SET, obj=brand, brand=brand, data=data)
    _notify_changed(brand.pk, "channels")
    return created
