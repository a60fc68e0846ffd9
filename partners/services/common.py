"""Helpers every partners service shares: the permission error, and the brand-changed
signal sent once the transaction commits."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from partners.errors import PartnersError as E
from partners.models import Brand
from partners.signals import brand_changed


def _denied(message: str | None = None) -> ValidationError:
    return ValidationError(
        {"__all__": ValidationError(message or _("You are not allowed to do this."), code=E.PERMISSION_DENIED)}
    )


def _notify_changed(brand_id: int, change: str) -> None:
    transaction.on_commit(lambda: brand_changed.send(sender=Brand, brand_id=brand_id, change=change))
