"""GraphQL of partner webhooks (docs/WEBHOOKS.md): a brand's endpoints and their delivery log,
visible to the brand's owners, its keys holding ``webhooks:manage`` and platform admins; the
mutations need that scope. The signing secret is never readable: it appears once, in the
payload of createWebhookEndpoint and rotateWebhookSecret."""

from __future__ import annotations

from datetime import UTC, timedelta

import graphene
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from api.core.errors import ApiError, graphql_error_from
from api.core.ids import brand_for, decode_id
from api.core.labels import choice_label
from api.core.mutations import BaseMutation
from api.core.types import ScopedConnectionField, ScopedObjectType, actor_of
from api.exchange.types import EventTypeEnum
from exchange import selectors, webhooks
from exchange.models import WebhookDelivery, WebhookEndpoint, WebhookState
from exchange.services import webhooks as services
from partners.actors import Actor
from partners.models import ApiKeyScope

WebhookStateEnum = graphene.Enum.from_enum(
    WebhookState, description="pending → succeeded, or failed (retrying) → … → gave_up"
)


class WebhookAttemptType(graphene.ObjectType):
    """One HTTP request of a delivery."""

    number = graphene.Int(required=True)
    at = graphene.DateTime(required=True)
    status_code = graphene.Int(description="Null when no response came (timeout, refused address).")
    latency_ms = graphene.Int()
    response = graphene.String(required=True, description="The first 1 KB of the response body.")
    error = graphene.String(required=True)
    succeeded = graphene.Boolean(required=True)

    class Meta:
        name = "WebhookAttempt"


class WebhookDeliveryNode(ScopedObjectType):
    """One event for one endpoint, with its attempts (newest first)."""

    webhook_id = graphene.String(required=True, description="The webhook-id header: the same on every retry.")
    event_type = graphene.Field(EventTypeEnum, required=True)
    state = graphene.Field(WebhookStateEnum, required=True)
    state_label = graphene.String(required=True, description="In the request's language.")
    next_attempt_at = graphene.DateTime(description="Null once delivered or given up.")
    body = graphene.String(required=True, description="The JSON body sent (its signature changes per attempt).")
    attempt_log = graphene.List(graphene.NonNull(WebhookAttemptType), required=True)

    class Meta:
        model = WebhookDelivery
        name = "WebhookDelivery"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "webhook_id",
            "event_type",
            "state",
            "state_label",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_latency_ms",
            "last_response",
            "last_error",
            "body",
            "attempt_log",
            "created_at",
            "updated_at",
            "succeeded_at",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.webhook_delivery_visible(actor=actor)

    def resolve_event_type(self, info):
        return self.event.type

    def resolve_state_label(self, info):
        return choice_label(WebhookState, self.state)

    def resolve_next_attempt_at(self, info):
        return self.next_attempt_at if self.state in (WebhookState.PENDING, WebhookState.FAILED) else None

    def resolve_body(self, info):
        return webhooks.body_of(self.event, for_brand=self.endpoint.brand.slug).decode()

    def resolve_attempt_log(self, info):
        return [
            WebhookAttemptType(
                number=a.number,
                at=a.at,
                status_code=a.status_code,
                latency_ms=a.latency_ms,
                response=a.response,
                error=a.error,
                succeeded=a.succeeded,
            )
            for a in self.attempt_log.all()
        ]


class WebhookEndpointNode(ScopedObjectType):
    """A brand's webhook endpoint. The signing secret is not readable here (see
    createWebhookEndpoint / rotateWebhookSecret)."""

    event_types = graphene.List(graphene.NonNull(EventTypeEnum), required=True)
    previous_secret_expires_at = graphene.DateTime(
        description="While set and in the future, the previous secret still signs beside the new one."
    )
    deliveries = ScopedConnectionField(
        WebhookDeliveryNode, state=WebhookStateEnum(), description="The delivery log, newest first."
    )

    class Meta:
        model = WebhookEndpoint
        name = "WebhookEndpoint"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "brand",
            "url",
            "description",
            "event_types",
            "enabled",
            "disabled_reason",
            "failing_since",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
            "deliveries",
        )

    # Stored as a code; the API keeps giving the sentence, in the caller's language.
    disabled_reason = graphene.String(required=True)

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.webhook_endpoint_visible(actor=actor)

    def resolve_disabled_reason(self, info):
        return self.disabled_reason_text

    def resolve_event_types(self, info):
        return list(self.event_types)

    def resolve_previous_secret_expires_at(self, info):
        expires = self.previous_secret_expires_at
        return expires if expires is not None and expires > timezone.now() else None

    def resolve_deliveries(self, info, state=None, **kwargs):
        return selectors.webhook_delivery_list(
            actor=actor_of(info), endpoint=self, state=getattr(state, "value", state)
        )


# --- queries ------------------------------------------------------------------------------------
class WebhooksQuery(graphene.ObjectType):
    webhook_endpoints = ScopedConnectionField(
        WebhookEndpointNode,
        brand=graphene.ID(description="One of your brands (default: all you may see)."),
        description="Webhook endpoints of the brands you own (keys: with webhooks:manage), oldest first.",
    )
    webhook_endpoint = graphene.Field(WebhookEndpointNode, id=graphene.ID(required=True))

    def resolve_webhook_endpoints(root, info, brand=None, **kwargs):
        actor = actor_of(info)
        try:
            own = brand_for(actor, brand) if brand else None
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return selectors.webhook_endpoint_list(actor=actor, brand=own)

    def resolve_webhook_endpoint(root, info, id):
        try:
            pk = decode_id(id, "WebhookEndpoint")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return selectors.webhook_endpoint_get(actor=actor_of(info), pk=pk)


# --- mutations ----------------------------------------------------------------------------------
def _endpoint(actor: Actor, global_id: str, field: str = "endpoint") -> WebhookEndpoint:
    endpoint = selectors.webhook_endpoint_get(actor=actor, pk=decode_id(global_id, "WebhookEndpoint", field=field))
    if endpoint is None:
        raise ValidationError({field: ValidationError(_("No such webhook endpoint."), code=ApiError.NOT_FOUND)})
    return endpoint


def _delivery(actor: Actor, global_id: str) -> WebhookDelivery:
    delivery = selectors.webhook_delivery_get(actor=actor, pk=decode_id(global_id, "WebhookDelivery", field="delivery"))
    if delivery is None:
        raise ValidationError({"delivery": ValidationError(_("No such webhook delivery."), code=ApiError.NOT_FOUND)})
    return delivery


def _aware(moment):
    """A time without an offset is read as UTC (documented)."""
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment, UTC)
    return moment


def _values(event_types) -> list[str] | None:
    return None if event_types is None else [getattr(t, "value", t) for t in event_types]


class WebhookMutation(BaseMutation):
    class Meta:
        abstract = True

    scope = ApiKeyScope.WEBHOOKS_MANAGE


class CreateWebhookEndpoint(WebhookMutation):
    """Register an endpoint for your brand (its owner, or a key with webhooks:manage). The
    signing secret is in this payload only; store it now."""

    endpoint = graphene.Field(WebhookEndpointNode)
    secret = graphene.String(description="whsec_…: shown once.")

    class Arguments:
        brand = graphene.ID(required=True)
        url = graphene.String(required=True, description="https://, on a public address.")
        event_types = graphene.List(graphene.NonNull(EventTypeEnum), required=True, description="At least one.")
        description = graphene.String()
        enabled = graphene.Boolean(default_value=True)

    @classmethod
    def perform(cls, actor, info, brand, url, event_types, description="", enabled=True):
        own = brand_for(actor, brand)
        endpoint, secret = services.endpoint_create(
            actor=actor,
            brand=own,
            url=url,
            event_types=_values(event_types),
            description=description or "",
            enabled=enabled is not False,
        )
        return {"endpoint": endpoint, "secret": secret}


class UpdateWebhookEndpoint(WebhookMutation):
    """Change an endpoint (omitted arguments stay). Enabling it again resumes its retries."""

    endpoint = graphene.Field(WebhookEndpointNode)

    class Arguments:
        endpoint = graphene.ID(required=True)
        url = graphene.String()
        event_types = graphene.List(graphene.NonNull(EventTypeEnum))
        description = graphene.String()
        enabled = graphene.Boolean()

    @classmethod
    def perform(cls, actor, info, endpoint, url=None, event_types=None, description=None, enabled=None):
        target = _endpoint(actor, endpoint)
        updated = services.endpoint_update(
            actor=actor,
            endpoint=target,
            url=url,
            event_types=_values(event_types),
            description=description,
            enabled=enabled,
        )
        return {"endpoint": updated}


class RotateWebhookSecret(WebhookMutation):
    """A new signing secret (in this payload only). The previous one keeps signing beside it
    until ``endpoint.previousSecretExpiresAt``."""

    endpoint = graphene.Field(WebhookEndpointNode)
    secret = graphene.String(description="whsec_…: shown once.")

    class Arguments:
        endpoint = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, endpoint):
        updated, secret = services.endpoint_rotate_secret(actor=actor, endpoint=_endpoint(actor, endpoint))
        return {"endpoint": updated, "secret": secret}


class DeleteWebhookEndpoint(WebhookMutation):
    """Remove an endpoint with its delivery log."""

    deleted_id = graphene.ID()

    class Arguments:
        endpoint = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, endpoint):
        services.endpoint_delete(actor=actor, endpoint=_endpoint(actor, endpoint))
        return {"deleted_id": endpoint}


class ReplayWebhookDelivery(WebhookMutation):
    """Send one delivery again now: same webhook-id and body, a fresh retry schedule."""

    delivery = graphene.Field(WebhookDeliveryNode)

    class Arguments:
        delivery = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, delivery):
        return {"delivery": services.delivery_replay(actor=actor, delivery=_delivery(actor, delivery))}


class ReplayFailedWebhookDeliveries(WebhookMutation):
    """Send again every failed or given-up delivery of an endpoint created in [since, until)
    (at most 1,000 per call; by default the last 7 days)."""

    count = graphene.Int(required=True, description="How many were restarted (0 when refused).")

    class Arguments:
        endpoint = graphene.ID(required=True)
        since = graphene.DateTime(description="Default: 7 days ago.")
        until = graphene.DateTime(description="Default: now.")

    @classmethod
    def failed(cls, info, errors):
        return cls(errors=errors, count=0)

    @classmethod
    def perform(cls, actor, info, endpoint, since=None, until=None):
        now = timezone.now()
        target = _endpoint(actor, endpoint)
        count = services.deliveries_replay_failed(
            actor=actor, endpoint=target, since=_aware(since) or now - timedelta(days=7), until=_aware(until) or now
        )
        return {"count": count}


class WebhooksMutation(graphene.ObjectType):
    create_webhook_endpoint = CreateWebhookEndpoint.Field()
    update_webhook_endpoint = UpdateWebhookEndpoint.Field()
    rotate_webhook_secret = RotateWebhookSecret.Field()
    delete_webhook_endpoint = DeleteWebhookEndpoint.Field()
    replay_webhook_delivery = ReplayWebhookDelivery.Field()
    replay_failed_webhook_deliveries = ReplayFailedWebhookDeliveries.Field()
