"""``viewer``: who is calling — a person (session), a partner system's API key, or nobody.

A key cannot be a ``User`` (``me`` is null for it), yet a partner system needs to know which
brand it acts for, with which scopes, under which key: ``Viewer`` answers that from the
request's ``Actor``. It shows the key's name, prefix and scopes, never its secret or hash.
"""

from __future__ import annotations

import graphene

from api.core.labels import choice_label, choice_labels
from api.partners.types import BrandNode, UserNode
from partners import selectors, usage
from partners.actors import Actor
from partners.models import ApiKey, ApiKeyScope, Role


class ViewerKind(graphene.Enum):
    PERSON = "person"
    API_KEY = "api_key"
    ANONYMOUS = "anonymous"


class ViewerApiKey(graphene.ObjectType):
    """The API key this request is authenticated with — never its secret or the secret's hash."""

    name = graphene.String(required=True)
    prefix = graphene.String(required=True, description="The `<prefix>` of `hl_<prefix>_<secret>`.")
    scopes = graphene.List(graphene.NonNull(graphene.String), required=True)
    scope_labels = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="`scopes` in the request's language."
    )
    created_at = graphene.DateTime(required=True)
    last_used_at = graphene.DateTime()

    def resolve_scopes(root: ApiKey, info):
        return list(root.scopes or [])

    def resolve_scope_labels(root: ApiKey, info):
        return choice_labels(ApiKeyScope, root.scopes or [])


class ViewerRateLimit(graphene.ObjectType):
    """The key's token bucket: bursts of ``burst`` requests, refilled at ``perMinute``."""

    per_minute = graphene.Int(required=True)
    burst = graphene.Int(required=True)
    raised = graphene.Boolean(required=True, description="A platform admin set this brand's rate above the default.")
    remaining = graphene.Int(description="Requests left in the bucket after this one (null when not counted).")


class Viewer(graphene.ObjectType):
    """Who is calling: a person (session), a partner system's API key, or nobody.

    A key learns its brand, scopes and prefix here (``me`` is a person's view and is null for
    keys); a person finds their brands in ``user.memberships``.
    """

    kind = graphene.Field(graphene.NonNull(ViewerKind))
    is_admin = graphene.Boolean(required=True, description="A platform admin (never an API key).")
    user = graphene.Field(UserNode, description="The signed-in person; null for API keys and anonymous callers.")
    api_key = graphene.Field(ViewerApiKey, description="The key of this request; null unless a key is used.")
    brand = graphene.Field(BrandNode, description="The key's brand; null for people (see `user.memberships`).")
    role = graphene.String(description="What the key may do in its brand: `viewer` (read) or `marketer` (write).")
    role_label = graphene.String(description="`role` in the request's language.")
    rate_limit = graphene.Field(ViewerRateLimit, description="The key's rate limit; null unless a key is used.")

    def resolve_kind(root: Actor, info):
        if root.api_key is not None:
            return ViewerKind.API_KEY
        return ViewerKind.PERSON if root.user is not None else ViewerKind.ANONYMOUS

    def resolve_is_admin(root: Actor, info):
        return root.is_admin

    def resolve_user(root: Actor, info):
        return root.user if root.api_key is None else None

    def resolve_api_key(root: Actor, info):
        return root.api_key

    def resolve_brand(root: Actor, info):
        if root.api_key is None:
            return None
        return selectors.brand_get(actor=root, pk=root.api_key.brand_id)

    def resolve_role(root: Actor, info):
        return root.role_in(root.api_key.brand_id) if root.api_key is not None else None

    def resolve_role_label(root: Actor, info):
        return choice_label(Role, Viewer.resolve_role(root, info))

    def resolve_rate_limit(root: Actor, info):
        if root.api_key is None:
            return None
        rate = usage.key_rate(root.api_key)
        bucket = getattr(info.context, "rate_bucket", None)
        return ViewerRateLimit(
            per_minute=rate.per_minute,
            burst=rate.burst,
            raised=rate.raised,
            remaining=bucket.remaining if bucket is not None else None,
        )
