"""GraphQL types of the partners domain. Each lists its fields explicitly and is scoped to
the caller through ``ScopedObjectType.scope``.

A brand has a public profile (what other brands see in the marketplace) and private fields
(legal identity, review status, channels, keys, audit) that resolve to null / empty unless
the caller is a member of that brand or a platform admin.
"""

from __future__ import annotations

import graphene
from django.db.models import F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from graphene.types.generic import GenericScalar
from graphene_django import DjangoListField

from api.core.labels import choice_label, choice_labels, tone_labels
from api.core.loaders import selects
from api.core.scalars import BigInt
from api.core.types import ScopedObjectType, actor_of, request_language
from partners import selectors
from partners import usage as key_usage
from partners.actors import Actor
from partners.logos import logo_version
from partners.models import (
    ApiKey,
    ApiKeyScope,
    AuditAction,
    AuditEvent,
    Brand,
    BrandStatus,
    Category,
    Channel,
    ChannelType,
    Membership,
    Role,
    User,
    Verification,
)
from partners.validation import BRAND_PROFILE_FIELDS

# Attribute the brand list resolvers prefetch channels into (see with_brand_prefetches).
PREFETCHED_CHANNELS = "api_channels"
PREFETCHED_AUDIT = "api_audit_events"
AUDIT_EVENTS_MAX = 100


class CategoryNode(ScopedObjectType):
    name = graphene.String(required=True, description="In the request's language.")

    class Meta:
        model = Category
        name = "Category"
        fields = ("code", "name", "name_zh", "name_en", "is_leaf")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.category_visible(actor=actor)

    def resolve_name(self, info):
        return self.name(request_language())


class ChannelNode(ScopedObjectType):
    type = graphene.String(required=True)
    verification = graphene.String(required=True)
    size = BigInt(required=True, description="People reached.")
    active_size = BigInt(required=True, description="size × activeRate, rounded to a whole number of people.")
    type_label = graphene.String(required=True, description="`type` in the request's language.")
    verification_label = graphene.String(required=True, description="`verification` in the request's language.")

    class Meta:
        model = Channel
        name = "Channel"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "type",
            "type_label",
            "label",
            "size",
            "active_rate",
            "verification",
            "verification_label",
            "verified_at",
            "active_size",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.channel_visible(actor=actor)

    def resolve_type_label(self, info):
        return choice_label(ChannelType, self.type)

    def resolve_verification_label(self, info):
        return choice_label(Verification, self.verification)


class ApiKeyUsageDay(graphene.ObjectType):
    """Requests a key made on one day (Asia/Shanghai), and how many answered with errors."""

    day = graphene.Date(required=True)
    requests = graphene.Int(required=True)
    errors = graphene.Int(required=True)


class ApiKeyNode(ScopedObjectType):
    """A key's metadata. The secret is shown once, in createApiKey's payload; its hash never."""

    is_active = graphene.Boolean(required=True)
    usage = graphene.List(
        graphene.NonNull(ApiKeyUsageDay),
        required=True,
        days=graphene.Int(default_value=14, description="How many days back, newest first (1–40)."),
        description="Requests and errors per day, from counters (kept 40 days).",
    )
    scopes = graphene.List(graphene.NonNull(graphene.String), required=True)
    scope_labels = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="`scopes` in the request's language."
    )

    class Meta:
        model = ApiKey
        name = "ApiKey"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "name",
            "prefix",
            "scopes",
            "scope_labels",
            "created_at",
            "last_used_at",
            "revoked_at",
            "is_active",
            "usage",
        )

    def resolve_usage(self, info, days=14):
        return [
            ApiKeyUsageDay(day=d.day, requests=d.requests, errors=d.errors)
            for d in key_usage.usage_days(self.pk, days=days)
        ]

    def resolve_scopes(self, info):
        return list(self.scopes or [])

    def resolve_scope_labels(self, info):
        return choice_labels(ApiKeyScope, self.scopes or [])

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.api_key_visible(actor=actor)


class AuditEventNode(ScopedObjectType):
    actor_name = graphene.String(
        description="Who acted: a person, an API key, or the system. Platform admins show as the Huiliu team "
        "(in the request's language) to everyone but admins."
    )
    data = GenericScalar()
    action_label = graphene.String(required=True, description="`action` in the request's language.")

    class Meta:
        model = AuditEvent
        name = "AuditEvent"
        fields = ("action", "action_label", "object_type", "object_id", "reason", "data", "created_at", "actor_name")

    def resolve_action_label(self, info):
        return choice_label(AuditAction, self.action)

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.audit_event_visible(actor=actor)

    def resolve_actor_name(self, info):
        return selectors.audit_actor_name(actor=actor_of(info), event=self)

    def resolve_data(self, info):
        return self.data or {}


class BrandNode(ScopedObjectType):
    name = graphene.String(required=True, description="In the request's language (Accept-Language).")
    name_zh = graphene.String(required=True)
    name_en = graphene.String(required=True)
    # Public, and loaded with select_related by every brand selector: resolved directly
    # rather than through graphene-django's per-row get_node hop (which would be N+1).
    category = graphene.Field(graphene.NonNull(CategoryNode))
    tone_tags = graphene.List(graphene.NonNull(graphene.String), required=True)
    tone_tag_labels = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="`toneTags` in the request's language, same order (a free tag is its own label).",
    )
    audience = GenericScalar(description="{gender, age, city_tier: {key: share}, regions: [ISO 3166-2:CN]}")
    store_count = BigInt(required=True)
    active_audience = BigInt(required=True, description="Σ channel size × active rate.")
    channel_types = graphene.List(graphene.NonNull(graphene.String), required=True)
    channel_type_labels = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="`channelTypes` in the request's language."
    )
    logo_url = graphene.String(description="The brand's logo (PNG, JPEG or WebP), an absolute URL; null without one.")
    # Private: null / empty unless the caller is a member of the brand or an admin.
    status = graphene.String()
    status_label = graphene.String(description="`status` in the request's language (private, like `status`).")
    status_reason = graphene.String()
    legal_name = graphene.String()
    credit_code = graphene.String()
    channels = DjangoListField(ChannelNode, required=True)
    api_keys = DjangoListField(ApiKeyNode, required=True, description="Owner and admins only.")
    audit_events = graphene.List(graphene.NonNull(AuditEventNode), required=True, limit=graphene.Int(default_value=20))

    class Meta:
        model = Brand
        name = "Brand"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "slug",
            "name_zh",
            *BRAND_PROFILE_FIELDS,
            "tone_tag_labels",
            "active_audience",
            "channel_types",
            "channel_type_labels",
            "logo_url",
            "status",
            "status_label",
            "status_reason",
            "channels",
            "api_keys",
            "audit_events",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.brand_visible(actor=actor)

    # --- public ---------------------------------------------------------------------------
    def resolve_name(self, info):
        return self.display_name(request_language())

    def resolve_name_zh(self, info):
        return self.name

    def resolve_name_en(self, info):
        return self.name_en

    def resolve_category(self, info):
        return self.category

    def resolve_tone_tags(self, info):
        return list(self.tone_tags or [])

    def resolve_tone_tag_labels(self, info):
        return tone_labels(self.tone_tags or [])

    def resolve_logo_url(self, info):
        if not self.logo:
            return None
        # The web app serves logos (frontend.views.logos), under the same visibility rules.
        path = reverse("frontend:brand_logo", args=[self.slug]) + f"?v={logo_version(self.logo.name)}"
        return info.context.build_absolute_uri(path)

    def resolve_channel_types(self, info):
        channels = getattr(self, PREFETCHED_CHANNELS, None)
        if channels is not None:
            return sorted({c.type for c in channels})
        return sorted(set(self.channels.values_list("type", flat=True)))

    def resolve_channel_type_labels(self, info):
        return choice_labels(ChannelType, BrandNode.resolve_channel_types(self, info))

    # --- private ----------------------------------------------------------------------------
    @staticmethod
    def _private(brand: Brand, info) -> bool:
        return actor_of(info).can_view_private(brand.pk)

    def resolve_status(self, info):
        return self.status if BrandNode._private(self, info) else None

    def resolve_status_label(self, info):
        return choice_label(BrandStatus, self.status) if BrandNode._private(self, info) else None

    def resolve_status_reason(self, info):
        return self.status_reason if BrandNode._private(self, info) else None

    def resolve_legal_name(self, info):
        return self.legal_name if BrandNode._private(self, info) else None

    def resolve_credit_code(self, info):
        return self.credit_code if BrandNode._private(self, info) else None

    def resolve_channels(self, info):
        actor = actor_of(info)
        if not actor.can_view_private(self.pk):
            return []
        channels = getattr(self, PREFETCHED_CHANNELS, None)
        if channels is not None:
            return channels
        return selectors.channel_list(actor=actor, brand=self)

    def resolve_api_keys(self, info):
        return selectors.api_key_list(actor=actor_of(info), brand=self)

    def resolve_audit_events(self, info, limit=20):
        limit = max(1, min(limit or 20, AUDIT_EVENTS_MAX))
        if not actor_of(info).can_view_private(self.pk):
            return []
        prefetched = getattr(self, PREFETCHED_AUDIT, None)
        if prefetched is not None:  # already scoped to the caller (queries._for_list)
            return prefetched[:limit]
        return selectors.audit_history(actor=actor_of(info), brand=self)[:limit]


def with_brand_prefetches(qs: QuerySet, info, via: str = "") -> QuerySet:
    """Prefetch what a list of brands shows, so the query count does not grow with the list.

    ``via`` is the path to the brand from the listed model ("brand__" for memberships).
    Channels: one query (channelTypes is public; channels are shown only to members and
    admins, from the same prefetch). Audit events, if asked for: one query holding the latest
    AUDIT_EVENTS_MAX per brand, limited to what the caller may see.
    """
    qs = qs.prefetch_related(
        Prefetch(f"{via}channels", queryset=Channel.objects.order_by("type", "label"), to_attr=PREFETCHED_CHANNELS)
    )
    if selects(info, "auditEvents"):
        latest = (
            selectors.audit_event_visible(actor=actor_of(info))
            .select_related("actor", "actor_api_key")
            .annotate(
                rank=Window(
                    RowNumber(), partition_by=[F("brand_id")], order_by=[F("created_at").desc(), F("id").desc()]
                )
            )
            .filter(rank__lte=AUDIT_EVENTS_MAX)
            .order_by("-created_at", "-id")
        )
        qs = qs.prefetch_related(Prefetch(f"{via}audit_events", queryset=latest, to_attr=PREFETCHED_AUDIT))
    return qs


class MembershipNode(ScopedObjectType):
    role = graphene.String(required=True)
    role_label = graphene.String(required=True, description="`role` in the request's language.")
    # A membership is visible only to its own user (or an admin), so its brand is always one
    # the caller may see privately; resolved from select_related rather than per-row get_node.
    brand = graphene.Field(graphene.NonNull(BrandNode))

    class Meta:
        model = Membership
        name = "Membership"
        fields = ("role", "role_label", "brand", "created_at")

    def resolve_role_label(self, info):
        return choice_label(Role, self.role)

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.membership_visible(actor=actor)

    def resolve_role(self, info):
        return self.role

    def resolve_brand(self, info):
        return self.brand


class UserNode(ScopedObjectType):
    display_name = graphene.String(required=True)
    is_admin = graphene.Boolean(required=True)
    memberships = DjangoListField(MembershipNode, required=True)

    class Meta:
        model = User
        name = "User"
        fields = ("email", "display_name", "is_admin", "memberships")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.user_visible(actor=actor)

    def resolve_display_name(self, info):
        return self.display_name or self.email

    def resolve_is_admin(self, info):
        return bool(self.is_active and self.is_staff)

    def resolve_memberships(self, info):
        memberships = self.memberships.select_related("brand__category").order_by("brand__name")
        return with_brand_prefetches(memberships, info, via="brand__")
