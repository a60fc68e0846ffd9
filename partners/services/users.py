"""Person accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from partners.errors import PartnersError as E
from partners.models import User


def user_signup(*, email: str, password: str, display_name: str = "") -> User:
    """A new person account; the e-mail address is the login."""
    email = (email or "").strip().lower()
    errors: dict[str, ValidationError] = {}
    if not email or "@" not in email:
        errors["email"] = ValidationError(_("Enter a valid e-mail address."), code=E.INVALID)
    elif get_user_model().objects.filter(username=email).exists():
        errors["email"] = ValidationError(_("An account with this e-mail already exists."), code=E.DUPLICATE)
    candidate = get_user_model()(username=email, email=email, display_name=display_name.strip()[:80])
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = ValidationError(exc.messages, code=E.INVALID)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        candidate.set_password(password)
        candidate.save()
    return candidate
