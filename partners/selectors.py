"""Reads of the partners domain, each scoped to the caller (``actor``).

``<noun>_visible(*, actor)`` answers "which rows may this caller see at all?" once per
model; the GraphQL types' ``scope()``, the list selectors below and the web views build on
it, so a visibility rule is written in one place.

``brands_compete`` is the one answer to "do A and B compete?" — the marketplace, the
matcher and the exchange all ask it here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from partners.actors import Actor
from partners.models import (
    ApiKey,
    AuditAction,
    AuditEvent,
    Brand,
    BrandBlock,
    BrandStatus,
    Category,
    Channel,
    CompetitionRule,
    Membership,
    User,
)


# --- Competition --------------------------------------------------------------------------------
def _under(code: str, root: str) -> bool:
    return code == root or code.startswith(root + ".")


def competing_category_map() -> dict[int, set[int]]:
    """Leaf category id → ids of the leaf categories whose brands compete with it.

    A leaf always competes with itself; each admin rule between two categories makes every
    leaf under one compete with every leaf under the other, both ways.
    """
    leaves = list(Category.objects.filter(is_leaf=True).values_list("id", "code"))
    result: dict[int, set[int]] = {cid: {cid} for cid, _ in leaves}
    for code_a, code_b in CompetitionRule.objects.values_list("category_a__code", "category_b__code"):
        side_a = [cid for cid, code in leaves if _under(code, code_a)]
        side_b = [cid for cid, code in leaves if _under(code, code_b)]
        for a in side_a:
            result[a].update(side_b)
        for b in side_b:
            result[b].update(side_a)
    return result


def blocked_pairs(brand_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """Every (a, b) with a block between them in either direction, both orders included."""
    qs = BrandBlock.objects.all()
    if brand_ids is not None:
        ids = list(brand_ids)
        qs = qs.filter(Q(brand_id__in=ids) | Q(blocked_id__in=ids))
    pairs: set[tuple[int, int]] = set()
    for a, b in qs.values_list("brand_id", "blocked_id"):
        pairs.add((a, b))
        pairs.add((b, a))
    return pairs


def brands_compete(a: Brand, b: Brand, *, category_map: dict[int, set[int]] | None = None) -> bool:
    """True if A and B must never be recommended, proposed to or matched with each other:
    same leaf category, an admin competition rule between their categories, or a block by
    either side. Symmetric. A brand is not its own competitor (callers exclude self anyway).
    """
    if a.pk == b.pk:
        return False
    category_map = category_map if category_map is not None else competing_category_map()
    if b.category_id in category_map.get(a.category_id, {a.category_id}):
        return True
    return BrandBlock.objects.filter(Q(brand_id=a.pk, blocked_id=b.pk) | Q(brand_id=b.pk, blocked_id=a.pk)).exists()


def competitor_exclusion(brand: Brand) -> Q:
    """A filter matching every brand that competes with ``brand`` (to ``exclude()``)."""
    categories = competing_category_map().get(brand.category_id, {brand.category_id})
    blocked = BrandBlock.objects.filter(brand=brand).values("blocked_id")
    blockers = BrandBlock.objects.filter(blocked=brand).values("brand_id")
    return Q(category_id__in=categories) | Q(pk__in=blocked) | Q(pk__in=blockers)


# --- Brands ---------------------------------------------------------------------------------------
def brand_visible(*, actor: Actor) -> QuerySet[Brand]:
    """Brands the caller may see at all: admins all; others approved brands and their own."""
    qs = Brand.objects.select_related("category")
    if actor.is_admin:
        return qs
    own = actor.brand_ids
    return qs.filter(Q(status=BrandStatus.APPROVED) | Q(pk__in=own))


def brand_marketplace(
    *, actor: Actor, search: str = "", category: str = "", exclude_own: bool = False
) -> QuerySet[Brand]:
    """Approved brands' public profiles; search by name (zh or en), filter by category
    code (a leaf, or a group to include its leaves)."""
    qs = Brand.objects.select_related("category").filter(status=BrandStatus.APPROVED)
    if search := search.strip():
        qs = qs.filter(Q(name__icontains=search) | Q(name_en__icontains=search) | Q(slug__icontains=search))
    if category := category.strip():
        qs = qs.filter(Q(category__code=category) | Q(category__code__startswith=category + "."))
    if exclude_own and actor.brand_ids:
        qs = qs.exclude(pk__in=actor.brand_ids)
    return qs.order_by("-active_audience", "name")


def brand_mine(*, actor: Actor) -> QuerySet[Brand]:
    return Brand.objects.select_related("category").filter(pk__in=actor.brand_ids).order_by("name")


def brand_get(*, actor: Actor, slug: str | None = None, pk: int | None = None) -> Brand | None:
    """One brand if the caller may see it, else None (never reveals that it exists)."""
    qs = brand_visible(actor=actor)
    try:
        return qs.get(slug=slug) if slug is not None else qs.get(pk=pk)
    except Brand.DoesNotExist:
        return None


def brand_slug_taken(*, slug: str) -> bool:
    """True if a brand, in any status, already has this slug (slugs are never reused).

    Not scoped by caller on purpose: registration must refuse a slug held by a brand the
    caller cannot see (pending, rejected, suspended) too.
    """
    return Brand.objects.filter(slug=slug).exists()


def channel_list(*, actor: Actor, brand: Brand) -> QuerySet[Channel]:
    return channel_visible(actor=actor).filter(brand=brand).order_by("type", "label")


def channel_visible(*, actor: Actor) -> QuerySet[Channel]:
    """Channels are private to their brand (and admins); others see only the scale."""
    qs = Channel.objects.select_related("brand")
    if actor.is_admin:
        return qs
    return qs.filter(brand_id__in=actor.brand_ids)


def audit_event_visible(*, actor: Actor) -> QuerySet[AuditEvent]:
    """Audit records are private to their brand (its members, its keys) and admins."""
    if actor.is_admin:
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(brand_id__in=actor.brand_ids)


def audit_history(*, actor: Actor, brand: Brand) -> QuerySet[AuditEvent]:
    return (
        audit_event_visible(actor=actor)
        .filter(brand=brand)
        .select_related("actor", "actor_api_key")
        .order_by("-created_at", "-id")
    )


def audit_actor_name(*, actor: Actor, event: AuditEvent) -> str:
    """Who did ``event``, as ``actor`` may see it, in the active language. The one answer for
    the web history and the API's ``actorName``.

    A platform admin's action shows as "Huiliu team" to everyone but admins: the reviewing
    person's name or e-mail is the platform's, not the brand's, to share. Admins see the real
    name. A key shows as its name; the platform's own jobs as "System".
    """
    if event.actor_id is not None:
        if event.actor.is_staff and not actor.is_admin:
            return gettext("Huiliu team")
        return str(event.actor)
    if event.actor_api_key_id is not None:
        return gettext("API key “%(name)s”") % {"name": event.actor_api_key.name}
    return gettext("System")


# Review decisions on a brand's legal identity: KYB changes before the latest one were reviewed.
KYB_DECISIONS = (AuditAction.BRAND_APPROVED, AuditAction.BRAND_REJECTED, AuditAction.BRAND_REINSTATED)


def kyb_changes_unreviewed(*, actor: Actor, brand_ids: Iterable[int]) -> dict[int, list[tuple[str, str, str]]]:
    """Per brand, the legal-identity fields changed since its last review decision, as
    ``(field, old, new)`` — old as the reviewer last saw it, new as it is now; a field changed
    and changed back is left out. From the ``BRAND_KYB_CHANGED`` events' data; brands
    ``actor`` may not see privately, or with no such change, are absent. One query."""
    ids = [pk for pk in brand_ids if actor.can_view_private(pk)]
    if not ids:
        return {}
    events = (
        audit_event_visible(actor=actor)
        .filter(brand_id__in=ids, action__in=(AuditAction.BRAND_KYB_CHANGED, *KYB_DECISIONS))
        .order_by("created_at", "id")
        .values_list("brand_id", "action", "data")
    )
    pending: dict[int, dict[str, list[str]]] = {}
    for brand_id, action, data in events:
        if action != AuditAction.BRAND_KYB_CHANGED:
            pending.pop(brand_id, None)
            continue
        fields = pending.setdefault(brand_id, {})
        for field, change in ((data or {}).get("changes") or {}).items():
            old, new = str(change.get("from") or ""), str(change.get("to") or "")
            fields[field] = [fields[field][0] if field in fields else old, new]
    return {
        brand_id: [(field, old, new) for field, (old, new) in fields.items() if old != new]
        for brand_id, fields in pending.items()
        if any(old != new for old, new in fields.values())
    }


def approval_queue(*, actor: Actor, status: str = BrandStatus.PENDING, search: str = "") -> QuerySet[Brand]:
    if not actor.is_admin:
        raise PermissionDenied("platform admins only")
    qs = Brand.objects.select_related("category").order_by("submitted_at", "id")
    if status:
        qs = qs.filter(status=status)
    if search := search.strip():
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(name_en__icontains=search)
            | Q(slug__icontains=search)
            | Q(credit_code__icontains=search)
            | Q(legal_name__icontains=search)
        )
    return qs


def with_credit_code_twins(qs: QuerySet[Brand]) -> QuerySet[Brand]:
    """``qs`` with ``credit_code_twins``: how many other brands use the same credit code."""
    twins = (
        Brand.objects.filter(credit_code=OuterRef("credit_code"))
        .exclude(pk=OuterRef("pk"))
        .order_by()
        .values("credit_code")
        .annotate(n=Count("id"))
        .values("n")
    )
    return qs.annotate(credit_code_twins=Case(When(credit_code="", then=0), default=Coalesce(Subquery(twins), 0)))


def brands_sharing_credit_code(*, actor: Actor, brands: Iterable[Brand]) -> dict[int, list[Brand]]:
    """For each of ``brands``, the other brands registered with the same (non-empty) credit
    code, in one query. For the reviewer's eyes only: telling a registrant would reveal who
    holds a code, so registration accepts it silently."""
    if not actor.is_admin:
        raise PermissionDenied("platform admins only")
    brands = list(brands)
    codes = {b.credit_code for b in brands if b.credit_code}
    holders: dict[str, list[Brand]] = {}
    for other in Brand.objects.filter(credit_code__in=codes).order_by("submitted_at", "id"):
        holders.setdefault(other.credit_code, []).append(other)
    return {
        b.pk: [o for o in holders.get(b.credit_code, []) if o.pk != b.pk]
        for b in brands
        if len(holders.get(b.credit_code, [])) > 1
    }


def api_key_visible(*, actor: Actor) -> QuerySet[ApiKey]:
    """Keys are seen by the people who manage them: the brand's owners and platform admins.
    API keys see no keys at all (``Actor.can_see_api_keys``)."""
    if not actor.can_see_api_keys:
        return ApiKey.objects.none()
    if actor.is_admin:
        return ApiKey.objects.all()
    return ApiKey.objects.filter(brand_id__in=[pk for pk in actor.brand_ids if actor.can_manage_keys(pk)])


def api_key_list(*, actor: Actor, brand: Brand) -> QuerySet[ApiKey]:
    return api_key_visible(actor=actor).filter(brand=brand)


# --- People ---------------------------------------------------------------------------------------
def user_visible(*, actor: Actor) -> QuerySet[User]:
    """A person sees only themselves; admins everyone; API keys and anonymous callers no one."""
    if actor.is_admin:
        return User.objects.all()
    if actor.user is None:
        return User.objects.none()
    return User.objects.filter(pk=actor.user.pk)


def membership_visible(*, actor: Actor) -> QuerySet[Membership]:
    """A person's own memberships (admins: all); API keys and anonymous callers none."""
    if actor.is_admin:
        return Membership.objects.all()
    if actor.user is None:
        return Membership.objects.none()
    return Membership.objects.filter(user=actor.user)


# --- Categories -----------------------------------------------------------------------------------
def category_visible(*, actor: Actor) -> QuerySet[Category]:
    """The taxonomy is public: everyone, signed in or not, sees every category."""
    return category_list()


def category_list(*, leaves_only: bool = False) -> QuerySet[Category]:
    qs = Category.objects.all().order_by("code")
    return qs.filter(is_leaf=True) if leaves_only else qs


def category_lookup() -> dict[str, Category]:
    """code → Category, loaded once (validators take it so bulk paths never query per row)."""
    return {c.code: c for c in Category.objects.all()}
