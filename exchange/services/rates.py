"""Channel rates: the admin-set benchmark values placements are priced at."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.errors import ExchangeError as E
from exchange.models import ChannelRate, PlacementFormat, unit_for
from huiliu.text import clean_line
from partners.actors import Actor
from partners.models import AuditAction, ChannelType
from partners.services import audit

MAX_RATE_CENTS = 10**9  # ¥10,000,000 per basis: far above any real rate, below any overflow


@transaction.atomic
def channel_rate_set(*, actor: Actor, channel_type: str, format: str, rate_cents: int, source: str = "") -> ChannelRate:
    """Create or change the rate of (channel type, format). Platform admins only; audited with
    the old and new figures. Proposals already written keep the rate they were valued with."""
    if not actor.is_admin:
        raise ValidationError({"__all__": ValidationError(_("Platform admins only."), code=E.PERMISSION_DENIED)})
    if channel_type not in ChannelType.values:
        raise ValidationError({"channel_type": ValidationError(_("Unknown channel type."), code=E.INVALID)})
    if format not in PlacementFormat.values:
        raise ValidationError({"format": ValidationError(_("Unknown placement format."), code=E.INVALID)})
    if isinstance(rate_cents, bool) or not isinstance(rate_cents, int) or not 0 < rate_cents <= MAX_RATE_CENTS:
        raise ValidationError(
            {"rate_cents": ValidationError(_("A rate is a positive whole number of cents."), code=E.INVALID_RATE)}
        )
    try:
        source = clean_line(source, "source", max_length=ChannelRate._meta.get_field("source").max_length)
    except ValidationError as exc:
        raise ValidationError({"source": exc}) from None
    rate = ChannelRate.objects.select_for_update().filter(channel_type=channel_type, format=format).first()
    old = rate.rate_cents if rate else None
    if rate is None:
        rate = ChannelRate(channel_type=channel_type, format=format, unit=unit_for(format))
    rate.rate_cents = rate_cents
    rate.source = source or rate.source
    rate.updated_at = timezone.now()
    rate.updated_by = actor.user
    rate.save()
    audit(
        actor=actor,
        action=AuditAction.CHANNEL_RATE_SET,
        obj=rate,
        data={"channel_type": channel_type, "format": format, "old_cents": old, "new_cents": rate_cents},
    )
    return rate
