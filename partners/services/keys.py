"""API keys: created and revoked by a brand's owner, authenticated on each API call."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiliu.text import clean_name, is_blank, normalise_name
from partners.actors import Actor
from partners.errors import PartnersError as E
from partners.models import ApiKey, ApiKeyScope, AuditAction, Brand
from partners.services.audit import audit
from partners.services.common import _denied

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
    errors = {}
    if not isinstance(name, str) or is_blank(normalise_name(name, compatibility=True)):
        errors["name"] = ValidationError(_("Give the key a name."), code=E.REQUIRED)
    else:
        try:
            name = clean_name(name, "name", max_length=ApiKey._meta.get_field("name").max_length, compatibility=True)
        except ValidationError as exc:
            errors["name"] = exc
    scopes = set(scopes or [])
    if ApiKeyScope.WRITE in scopes:  # write implies read; event and webhook scopes do not
        scopes.add(ApiKeyScope.READ)
    scopes = sorted(scopes)
    if not scopes or any(s not in ApiKeyScope.values for s in scopes):
        errors["scopes"] = ValidationError(
            _("Scopes must be one or more of: %(all)s."),
            code=E.INVALID_SCOPE,
            params={"all": ", ".join(ApiKeyScope.values)},  # codes for the API; pages show the labels
        )
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(API_KEY_PREFIX_BYTES)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        brand=brand, name=name, prefix=prefix, key_hash=_hash_secret(secret), scopes=scopes, created_by=actor.user
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
