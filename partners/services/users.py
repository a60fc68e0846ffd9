"""Person accounts: sign-up, and platform admins deactivating or reactivating an account."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from huiliu.text import clean_line, clean_name
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditAction, User
from partners.services.audit import audit
from partners.services.common import _denied


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


@transaction.atomic
def user_set_active(*, actor: Actor, user: User, is_active: bool, reason: str = "") -> User:
    """Deactivate (or reactivate) a person's account; returns the user.

    Platform admins only. A deactivated person can no longer sign in, their open sessions stop
    working at the next request (Django's auth backend refuses inactive users), and they lose
    any admin rights (``Actor.is_admin`` requires an active account); their brands, memberships
    and the brands' API keys are untouched. An admin cannot deactivate their own account (no
    lock-out by mistake), and only a superuser may deactivate another staff account. Audited
    (``user.deactivated`` / ``user.reactivated``); setting the current state again changes nothing.
    """
    if not actor.is_admin:
        raise _denied(_("Only platform admins can do this."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == is_active:
        return user
    if not is_active and actor.user is not None and actor.user.pk == user.pk:
        raise ValidationError(
            {"is_active": ValidationError(_("You cannot deactivate your own account."), code=E.CANNOT_DEACTIVATE_SELF)}
        )
    if not is_active and user.is_staff and actor.user is not None and not actor.user.is_superuser:
        raise _denied(_("Only a superuser can deactivate a staff account."))
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    audit(
        actor=actor,
        action=AuditAction.USER_REACTIVATED if is_active else AuditAction.USER_DEACTIVATED,
        obj=user,
        reason=reason,
        data={"email": user.email},
    )
    return user
