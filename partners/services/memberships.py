"""A brand's team: who is a member, with which role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from huiliu.text import clean_line
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditAction, Brand, Membership, Role, User
from partners.services.audit import audit
from partners.services.common import _denied


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": ValidationError(_("Unknown role."), code=E.INVALID)})


@transaction.atomic
def membership_add(*, actor: Actor, brand: Brand, email: str, role: str) -> Membership:
    """The owner adds an existing user to the brand with a role."""
    if not actor.can_manage_keys(brand.pk):  # same rule as keys: owners manage access
        raise _denied(_("Only the brand's owner can manage its team."))
    _check_role(role)
    try:
        email = clean_line(email, "email").lower()
    except ValidationError as exc:
        raise ValidationError({"email": exc}) from None
    user = get_user_model().objects.filter(username=email).first()
    if user is None:
        raise ValidationError({"email": ValidationError(_("No account with this e-mail."), code=E.INVALID)})
    return membership_set(actor=actor, brand=brand, user=user, role=role)


@transaction.atomic
def membership_set(*, actor: Actor, brand: Brand, user: User, role: str) -> Membership:
    """``user`` gets ``role`` in ``brand``: added, or their role changed. The brand's owner
    or a platform admin (support, through the Django admin)."""
    if not (actor.is_admin or actor.can_manage_keys(brand.pk)):
        raise _denied(_("Only the brand's owner can manage its team."))
    _check_role(role)
    membership, _created = Membership.objects.update_or_create(user=user, brand=brand, defaults={"role": role})
    audit(
        actor=actor,
        action=AuditAction.MEMBERSHIP_SET,
        obj=membership,
        brand=brand,
        data={"user": user.username, "role": role},
    )
    return membership
