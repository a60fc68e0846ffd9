"""State changes of the partners domain. Each service runs in one transaction, validates
its input, writes an AuditEvent and schedules side effects on commit.

Errors are ``ValidationError`` keyed by field with codes from ``partners.errors``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from partners import selectors, validation
from partners.actors import Actor
from partners.channels import same_channel_numbers
from partners.errors import PartnersError as E
from partners.models import (
    ApiKey,
    ApiKeyScope,
    AuditAction,
    AuditEvent,
    Brand,
    BrandBlock,
    BrandStatus,
    Category,
    Channel,
    CompetitionRule,
    Membership,
    Role,
    User,
    Verification,
)
from partners.signals import brand_changed, brands_imported


def _denied(message: str | None = None) -> ValidationError:
    return ValidationError(
        {"__all__": ValidationError(message or _("You are not allowed to do this."), code=E.PERMISSION_DENIED)}
    )


def audit(
    *,
    actor: Actor,
    action: AuditAction,
    obj: Any,
    brand: Brand | None = None,
    reason: str = "",
    data: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        **actor.audit_fields(),
        action=action,
        brand=brand,
        object_type=obj.__class__.__name__.lower(),
        object_id=str(obj.pk),
        reason=reason,
        data=data or {},
    )


def _notify_changed(brand_id: int, change: str) -> None:
    transaction.on_commit(lambda: brand_changed.send(sender=Brand, brand_id=brand_id, change=change))


# --- Users ------------------------------------------------------------------------------------
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


# --- Brands: registration and profile ----------------------------------------------------------
@transaction.atomic
def brand_register(*, actor: Actor, data: dict[str, Any], require_credit_code: bool = True) -> Brand:
    """Register a brand for review (status ``pending``); the registering user becomes its owner.

    ``data`` uses the bulk-import field names (slug, name, category, price_tier, tone,
    audience, stores, credit_code, channels …). Self-registration requires a valid unified
    social credit code.
    """
    if actor.user is None and not actor.system:
        raise _denied(_("Sign in to register a brand."))
    fields = validation.clean_brand_profile(
        data, categories=selectors.category_lookup(), require_credit_code=require_credit_code
    )
    channels = validation.clean_channels(data.get("channels"))
    _check_verification(actor, data.get("channels"), stored={})
    if selectors.brand_slug_taken(slug=fields["slug"]):
        raise ValidationError({"slug": ValidationError(_("This slug is already taken."), code=E.SLUG_TAKEN)})
    brand = Brand(**fields, status=BrandStatus.PENDING, submitted_at=timezone.now())
    brand.active_audience = validation.active_audience(channels)
    brand.save()
    Channel.objects.bulk_create([Channel(brand=brand, **c) for c in channels])
    if actor.user is not None:
        Membership.objects.create(user=actor.user, brand=brand, role=Role.OWNER)
    audit(actor=actor, action=AuditAction.BRAND_REGISTERED, obj=brand, brand=brand)
    _notify_changed(brand.pk, "registered")
    return brand


def brand_update_clean(*, brand: Brand, data: dict[str, Any]) -> dict[str, Any]:
    """The validated model fields ``brand_update`` would write for ``data`` (partial), or the
    ValidationError it would raise. Writes nothing: a form (the Django admin's) calls it to
    show the service's errors on its fields before it saves through ``brand_update``."""
    if "slug" in data and data["slug"] != brand.slug:
        raise ValidationError({"slug": ValidationError(_("The slug cannot be changed."), code=E.INVALID)})
    payload = {k: v for k, v in data.items() if k not in ("slug", "channels", "blocked")}
    fields = validation.clean_brand_profile(payload, categories=selectors.category_lookup(), partial=True)
    if brand.credit_code and fields.get("credit_code") == "":
        raise ValidationError(
            {"credit_code": ValidationError(_("The credit code cannot be removed."), code=E.REQUIRED)}
        )
    return fields


# Fields the review checked (KYB): changing one on a reviewed brand needs a new review.
KYB_FIELDS = ("credit_code", "legal_name")


@transaction.atomic
def brand_update(*, actor: Actor, brand: Brand, data: dict[str, Any]) -> Brand:
    """Update profile fields given in ``data`` (partial). The slug cannot change.

    Re-review: the platform approved the brand's legal identity, so when a member or API key
    changes ``credit_code`` or ``legal_name`` of an ``approved`` or ``suspended`` brand, the
    brand goes back to ``pending`` (``status_reason`` says why), the change is audited as
    ``AuditAction.BRAND_KYB_CHANGED`` with each field's old and new value, and the members
    are e-mailed as for any status change. Admin corrections never trigger a re-review.

    A ``category`` change is allowed without re-review (a brand may re-classify itself; the
    matcher recomputes who competes on the ``profile`` signal), but it is audited with its
    old and new code in the ``BRAND_UPDATED`` event, since it changes which brands compete.
    """
    if not actor.can_edit(brand.pk):
        raise _denied()
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    fields = brand_update_clean(brand=brand, data=data)
    changed = sorted(k for k, v in fields.items() if getattr(brand, k) != v)
    before = {k: getattr(brand, k) for k in changed}
    for key, value in fields.items():
        setattr(brand, key, value)
    kyb_changed = [k for k in KYB_FIELDS if k in changed]
    rereview = (
        bool(kyb_changed) and not actor.is_admin and brand.status in (BrandStatus.APPROVED, BrandStatus.SUSPENDED)
    )
    previous_status = brand.status
    if rereview:
        brand.status = BrandStatus.PENDING
        brand.status_reason = _("The legal name or credit code changed; the brand is back in review.")
        brand.status_changed_at = brand.submitted_at = timezone.now()
    brand.save()
    if changed:
        event_data: dict[str, Any] = {"fields": changed}
        if "category" in changed:
            event_data["category"] = {"from": before["category"].code, "to": brand.category.code}
        audit(actor=actor, action=AuditAction.BRAND_UPDATED, obj=brand, brand=brand, data=event_data)
        _notify_changed(brand.pk, "profile")
    if rereview:
        event = audit(
            actor=actor,
            action=AuditAction.BRAND_KYB_CHANGED,
            obj=brand,
            brand=brand,
            reason=brand.status_reason,
            data={
                "from": previous_status,
                "to": BrandStatus.PENDING,
                "changes": {k: {"from": before[k], "to": getattr(brand, k)} for k in kyb_changed},
            },
        )
        from partners.tasks import brand_status_notify

        transaction.on_commit(lambda: brand_status_notify.delay(event.pk))
        _notify_changed(brand.pk, "status")
    return brand


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
        old = stored.get((str(raw.get("type") or "").strip(), str(raw.get("label") or "").strip()[:80]))
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


# --- Brands: approval workflow -------------------------------------------------------------------
class Transition(NamedTuple):
    """One step of the brand status workflow (``TRANSITIONS[action]``)."""

    sources: frozenset[str]  # the statuses it may start from
    target: str  # the status it leads to
    reason_required: bool
    admin_only: bool  # platform admins only; otherwise a member with an edit role (or an admin)
    audit_action: AuditAction  # what the history records


TRANSITIONS: dict[str, Transition] = {
    "approve": Transition(
        sources=frozenset({BrandStatus.PENDING}),
        target=BrandStatus.APPROVED,
        reason_required=False,
        admin_only=True,
        audit_action=AuditAction.BRAND_APPROVED,
    ),
    "reject": Transition(
        sources=frozenset({BrandStatus.PENDING}),
        target=BrandStatus.REJECTED,
        reason_required=True,
        admin_only=True,
        audit_action=AuditAction.BRAND_REJECTED,
    ),
    "suspend": Transition(
        sources=frozenset({BrandStatus.APPROVED}),
        target=BrandStatus.SUSPENDED,
        reason_required=True,
        admin_only=True,
        audit_action=AuditAction.BRAND_SUSPENDED,
    ),
    "reinstate": Transition(
        sources=frozenset({BrandStatus.SUSPENDED}),
        target=BrandStatus.APPROVED,
        reason_required=False,
        admin_only=True,
        audit_action=AuditAction.BRAND_REINSTATED,
    ),
    "resubmit": Transition(
        sources=frozenset({BrandStatus.REJECTED}),
        target=BrandStatus.PENDING,
        reason_required=False,
        admin_only=False,
        audit_action=AuditAction.BRAND_RESUBMITTED,
    ),
}


@transaction.atomic
def brand_transition(*, actor: Actor, brand: Brand, action: str, reason: str = "") -> Brand:
    """Move a brand through its status workflow; writes an AuditEvent and e-mails members."""
    if action not in TRANSITIONS:
        raise ValidationError({"action": ValidationError(_("Unknown action."), code=E.INVALID)})
    spec = TRANSITIONS[action]
    allowed = actor.is_admin if spec.admin_only else actor.can_edit(brand.pk)
    if not allowed:
        raise _denied(_("Only platform admins can do this.") if spec.admin_only else None)
    reason = (reason or "").strip()
    if spec.reason_required and not reason:
        raise ValidationError({"reason": ValidationError(_("A reason is required."), code=E.REASON_REQUIRED)})
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    if brand.status not in spec.sources:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Cannot %(action)s a brand that is %(status)s.")
                    % {"action": action, "status": brand.get_status_display()},
                    code=E.INVALID_TRANSITION,
                )
            }
        )
    previous = brand.status
    brand.status = spec.target
    brand.status_reason = reason
    brand.status_changed_at = timezone.now()
    if action == "resubmit":
        brand.submitted_at = brand.status_changed_at
    brand.save(update_fields=["status", "status_reason", "status_changed_at", "submitted_at", "updated_at"])
    event = audit(
        actor=actor,
        action=spec.audit_action,
        obj=brand,
        brand=brand,
        reason=reason,
        data={"from": previous, "to": spec.target},
    )
    from partners.tasks import brand_status_notify

    transaction.on_commit(lambda: brand_status_notify.delay(event.pk))
    _notify_changed(brand.pk, "status")
    return brand


def brand_approve(*, actor: Actor, brand: Brand, reason: str = "") -> Brand:
    return brand_transition(actor=actor, brand=brand, action="approve", reason=reason)


def brand_reject(*, actor: Actor, brand: Brand, reason: str) -> Brand:
    return brand_transition(actor=actor, brand=brand, action="reject", reason=reason)


def brand_suspend(*, actor: Actor, brand: Brand, reason: str) -> Brand:
    return brand_transition(actor=actor, brand=brand, action="suspend", reason=reason)


def brand_reinstate(*, actor: Actor, brand: Brand, reason: str = "") -> Brand:
    return brand_transition(actor=actor, brand=brand, action="reinstate", reason=reason)


def brand_resubmit(*, actor: Actor, brand: Brand) -> Brand:
    return brand_transition(actor=actor, brand=brand, action="resubmit")


# --- Blocklist ----------------------------------------------------------------------------------
@transaction.atomic
def brand_block(*, actor: Actor, brand: Brand, blocked_slug: str) -> BrandBlock:
    """``brand`` will never be matched with the brand ``blocked_slug`` (either way)."""
    if not actor.can_edit(brand.pk):
        raise _denied()
    # Only brands the caller may see: a hidden (pending, rejected, suspended) brand is as
    # unknown as a missing one, so blocking cannot probe for it (admins see all).
    blocked = selectors.brand_get(actor=actor, slug=str(blocked_slug or ""))
    if blocked is None:
        raise ValidationError({"blocked": ValidationError(_("No brand with this slug."), code=E.UNKNOWN_BRAND)})
    if blocked.pk == brand.pk:
        raise ValidationError({"blocked": ValidationError(_("A brand cannot block itself."), code=E.SELF_BLOCK)})
    block, created = BrandBlock.objects.get_or_create(brand=brand, blocked=blocked)
    if created:
        audit(actor=actor, action=AuditAction.BRAND_BLOCKED, obj=brand, brand=brand, data={"blocked": blocked.slug})
        _notify_changed(brand.pk, "blocks")
        _notify_changed(blocked.pk, "blocks")
    return block


@transaction.atomic
def brand_unblock(*, actor: Actor, brand: Brand, blocked_slug: str) -> None:
    if not actor.can_edit(brand.pk):
        raise _denied()
    blocks = BrandBlock.objects.filter(brand=brand, blocked__slug=blocked_slug)
    unblocked_ids = list(blocks.values_list("blocked_id", flat=True))
    deleted, _ = blocks.delete()
    if deleted:
        audit(actor=actor, action=AuditAction.BRAND_UNBLOCKED, obj=brand, brand=brand, data={"blocked": blocked_slug})
        # Both sides' recommendations change (as for brand_block).
        _notify_changed(brand.pk, "blocks")
        for blocked_id in unblocked_ids:
            _notify_changed(blocked_id, "blocks")


# --- Competition rules ----------------------------------------------------------------------------
COMPETITION_NOTIFY_EACH_MAX = 100  # above this many affected brands, one brands_imported signal


@transaction.atomic
def competition_rule_create(*, actor: Actor, category_a: str, category_b: str, note: str = "") -> CompetitionRule:
    """Admins declare that brands in two categories (or their subtrees) compete."""
    if not actor.is_admin:
        raise _denied(_("Only platform admins can do this."))
    cats = {c.code: c for c in Category.objects.filter(code__in=[category_a, category_b])}
    errors = {}
    for field, code in (("category_a", category_a), ("category_b", category_b)):
        if code not in cats:
            errors[field] = ValidationError(_("unknown category %(code)s.") % {"code": code}, code=E.UNKNOWN_CATEGORY)
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


# --- Memberships ---------------------------------------------------------------------------------
def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": ValidationError(_("Unknown role."), code=E.INVALID)})


@transaction.atomic
def membership_add(*, actor: Actor, brand: Brand, email: str, role: str) -> Membership:
    """The owner adds an existing user to the brand with a role."""
    if not actor.can_manage_keys(brand.pk):  # same rule as keys: owners manage access
        raise _denied(_("Only the brand's owner can manage its team."))
    _check_role(role)
    user = get_user_model().objects.filter(username=(email or "").strip().lower()).first()
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


# --- API keys --------------------------------------------------------------------------------------
API_KEY_PREFIX_BYTES = 6
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash_secret(secret: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough (no brute force possible).
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, actor: Actor, brand: Brand, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new API key for ``brand``. Returns (key, full secret); the secret is never shown again.

    ``write`` implies ``read``: a key that may change a brand's data may also read it (every
    write mutation returns the changed brand), so a key asked for with ``["write"]`` is stored
    — and listed — with ``["read", "write"]`` rather than silently reading with a scope it
    does not show.
    """
    if not actor.can_manage_keys(brand.pk):
        raise _denied(_("Only the brand's owner can manage API keys."))
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = ValidationError(_("Give the key a name."), code=E.REQUIRED)
    scopes = set(scopes or [])
    if ApiKeyScope.WRITE in scopes:
        scopes.add(ApiKeyScope.READ)
    scopes = sorted(scopes)
    if not scopes or any(s not in ApiKeyScope.values for s in scopes):
        errors["scopes"] = ValidationError(
            _("Scopes must be one or more of: %(all)s.") % {"all": ", ".join(ApiKeyScope.values)}, code=E.INVALID_SCOPE
        )
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(API_KEY_PREFIX_BYTES)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        brand=brand, name=name[:80], prefix=prefix, key_hash=_hash_secret(secret), scopes=scopes, created_by=actor.user
    )
    audit(
        actor=actor, action=AuditAction.API_KEY_CREATED, obj=key, brand=brand, data={"name": key.name, "scopes": scopes}
    )
    return key, f"hl_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    if not (actor.is_admin or actor.can_manage_keys(api_key.brand_id)):
        raise _denied(_("Only the brand's owner can manage API keys."))
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        raise ValidationError({"id": ValidationError(_("This key is already revoked."), code=E.ALREADY_REVOKED)})
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit(actor=actor, action=AuditAction.API_KEY_REVOKED, obj=api_key, brand=api_key.brand)
    return api_key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key for a presented secret, or None. Records last use (once a minute)."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "hl":
        return None
    key = ApiKey.objects.select_related("brand").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not secrets.compare_digest(key.key_hash, _hash_secret(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
