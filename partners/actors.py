"""Who is calling: a signed-in user, a partner system's API key, or the system itself.

Every selector and service takes an ``Actor`` so scoping is decided in one place.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from partners.models import ApiKeyScope, Role

if TYPE_CHECKING:
    from partners.models import ApiKey, User

EDIT_ROLES = {Role.OWNER, Role.MARKETER}


class Actor:
    def __init__(self, user: User | None = None, api_key: ApiKey | None = None, system: bool = False):
        self.user = user if (user is not None and user.is_authenticated) else None
        self.api_key = api_key
        self.system = system

    @classmethod
    def from_request(cls, request) -> Actor:
        cached = getattr(request, "_huiliu_actor", None)
        if cached is not None:
            return cached
        actor = cls(user=getattr(request, "user", None), api_key=getattr(request, "api_key", None))
        request._huiliu_actor = actor
        return actor

    @classmethod
    def system_actor(cls) -> Actor:
        """Management commands and tasks acting for the platform."""
        return cls(system=True)

    # --- identity ---------------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return self.system or self.user is not None or self.api_key is not None

    @property
    def is_admin(self) -> bool:
        """Platform admins are active staff users (never API keys)."""
        return self.system or (self.user is not None and self.user.is_active and self.user.is_staff)

    @cached_property
    def roles(self) -> dict[int, str]:
        """brand id → role. An API key acts with ``marketer`` rights if it has write scope."""
        if self.api_key is not None:
            if not self.api_key.is_active:
                return {}
            # A key that may write anything acts with marketer rights; which mutations it may
            # call at all is its scopes' business (BaseMutation.scope).
            writes = self.api_key.has_scope(ApiKeyScope.WRITE) or self.api_key.has_scope(ApiKeyScope.EVENTS_WRITE)
            role = Role.MARKETER if writes else Role.VIEWER
            return {self.api_key.brand_id: role}
        if self.user is None:
            return {}
        return dict(self.user.memberships.values_list("brand_id", "role"))

    @property
    def brand_ids(self) -> set[int]:
        return set(self.roles)

    def role_in(self, brand_id: int) -> str | None:
        return self.roles.get(brand_id)

    # --- permissions ------------------------------------------------------------------------
    def can_view_private(self, brand_id: int) -> bool:
        return self.is_admin or brand_id in self.roles

    def can_edit(self, brand_id: int) -> bool:
        # Platform admins may correct any brand's data (support); members need an edit role.
        return self.is_admin or self.roles.get(brand_id) in EDIT_ROLES

    @property
    def can_see_api_keys(self) -> bool:
        """API keys never see API keys (a leaked key can neither list nor mint others). The
        one place this rule is written; ``can_manage_keys`` and ``api_key_visible`` read it."""
        return self.api_key is None

    def can_manage_keys(self, brand_id: int) -> bool:
        # Only a brand's owner (a person, not a key) creates or revokes keys.
        return self.can_see_api_keys and (self.system or self.roles.get(brand_id) == Role.OWNER)

    def audit_fields(self) -> dict:
        return {"actor": self.user, "actor_api_key": self.api_key}

    def __repr__(self) -> str:
        who = "system" if self.system else (f"key:{self.api_key.prefix}" if self.api_key else f"user:{self.user}")
        return f"<Actor {who}>"
