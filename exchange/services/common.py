"""Small helpers every exchange service shares: the error shape and who may act for a brand."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from partners.actors import EDIT_ROLES, Actor


def error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def can_act_for(actor: Actor, brand_id: int) -> bool:
    """Negotiating is a brand member's act (owner or marketer, or a write key) — platform
    admins read proposals but never negotiate on a brand's behalf."""
    return actor.roles.get(brand_id) in EDIT_ROLES


# --- guards ---------------------------------------------------------------------------------
