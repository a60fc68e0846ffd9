"""Competition rules: admins declare that two categories' brands compete."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from huiliu.text import clean_free_text, excerpt, forbidden_character
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import AuditAction, Brand, Category, CompetitionRule
from partners.services.audit import audit
from partners.services.common import _denied, _notify_changed
from partners.signals import brands_imported

COMPETITION_NOTIFY_EACH_MAX = 100  # above this many affected brands, one brands_imported signal


@transaction.atomic
def competition_rule_create(*, actor: Actor, category_a: str, category_b: str, note: str = "") -> CompetitionRule:
    """Admins declare that brands in two categories (or their subtrees) compete."""
    if not actor.is_admin:
        raise _denied(_("Only platform admins can do this."))
    codes = [c for c in (category_a, category_b) if isinstance(c, str) and forbidden_character(c) is None]
    cats = {c.code: c for c in Category.objects.filter(code__in=codes)}
    errors = {}
    for field, code in (("category_a", category_a), ("category_b", category_b)):
        if code not in cats:
            errors[field] = ValidationError(
                _("unknown category %(code)s.") % {"code": excerpt(code)}, code=E.UNKNOWN_CATEGORY
            )
    try:
        note = clean_free_text(note, "note", max_length=CompetitionRule._meta.get_field("note").max_length)
    except ValidationError as exc:
        errors["note"] = exc
    if errors:
        raise ValidationError(errors)
    a, b = sorted((cats[category_a], cats[category_b]), key=lambda c: c.code)
    rule, created = CompetitionRule.objects.get_or_create(
        category_a=a, category_b=b, defaults={"note": note, "created_by": actor.user}
    )
    if created:
        audit(actor=actor, action=AuditAction.COMPETITION_RULE_CREATED, obj=rule, data={"a": a.code, "b": b.code})
        _notify_competition(a, b)
    return rule


@transaction.atomic
def competition_rule_delete(*, actor: Actor, rule: CompetitionRule) -> None:
    """Admins remove a competition rule; the brands on either side may gain partners."""
    if not actor.is_admin:
        raise _denied(_("Only platform admins can do this."))
    a, b = rule.category_a, rule.category_b
    audit(actor=actor, action=AuditAction.COMPETITION_RULE_DELETED, obj=rule, data={"a": a.code, "b": b.code})
    rule.delete()
    _notify_competition(a, b)


def _notify_competition(a: Category, b: Category) -> None:
    # Every brand whose leaf lies under either side (a rule on a group such as ``beverage``
    # covers all its leaves) may gain or lose competitors.
    under = Q()
    for cat in (a, b):
        under |= Q(category__code=cat.code) | Q(category__code__startswith=cat.code + ".")
    brand_ids = list(Brand.objects.filter(under).values_list("pk", flat=True))
    if len(brand_ids) > COMPETITION_NOTIFY_EACH_MAX:
        # One bulk signal (the matcher rebuilds in bulk) instead of thousands of refreshes.
        transaction.on_commit(lambda: brands_imported.send(sender=Brand, brand_ids=brand_ids))
    else:
        for brand_id in brand_ids:
            _notify_changed(brand_id, "competition")
