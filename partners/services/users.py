"""Person accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from huiliu.text import clean_line, clean_name
from partners.errors import PartnersError as E
from partners.models import User


def user_signup(*, email: str, password: str, display_name: str = "") -> User:
    """A new person account; the e-mail address is the login."""
    errors: dict[str, ValidationError] = {}
    try:
        email = clean_line(email, "email", max_length=User._meta.get_field("username").max_length).lower()
    except ValidationError as exc:
        errors["email"], email = exc, ""
    try:
        display_name = clean_name(
            display_name, _("display name"), max_length=User._meta.get_field("display_name").max_length
        )
    except ValidationError as exc:
        errors["display_name"], display_name = exc, ""
    if "email" not in errors:
        if not email or "@" not in email:
            errors["email"] = ValidationError(_("Enter a valid e-mail address."), code=E.INVALID)
        elif get_user_model().objects.filter(username=email).exists():
            errors["email"] = ValidationError(_("An account with this e-mail already exists."), code=E.DUPLICATE)
    candidate = get_user_model()(username=email, email=email, display_name=display_name)
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
