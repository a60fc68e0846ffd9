"""Django admin for the exchange: the channel-rate table (edited through ``channel_rate_set`` so
every change is validated and audited) and read-only proposals (platform admins watch the
negotiations but never negotiate for a brand) and read-only webhook endpoints and deliveries
(support reads the log; the secrets, even encrypted, are not shown)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _

from exchange import services
from exchange.models import (
    ChannelRate,
    Placement,
    Proposal,
    ProposalMessage,
    Revision,
    WebhookDelivery,
    WebhookEndpoint,
)
from exchange.services.rates import MAX_RATE_CENTS
from huiliu.admin_input import CheckedLookupsAdmin, CheckedTextForm
from partners.actors import Actor


class ChannelRateForm(CheckedTextForm):
    """Validated by the service's own rules before saving, so a refused figure is a field
    error on the form (not a success message over a change that never happened)."""

    class Meta:
        model = ChannelRate
        fields = ("channel_type", "format", "rate_cents", "source")

    def clean_rate_cents(self):
        value = self.cleaned_data.get("rate_cents")
        if value is None or not 0 < value <= MAX_RATE_CENTS:
            raise forms.ValidationError(_("A rate is a positive whole number of cents."), code="invalid_rate")
        return value


@admin.register(ChannelRate)
class ChannelRateAdmin(CheckedLookupsAdmin):
    form = ChannelRateForm
    list_display = ("channel_type", "format", "unit", "rate_cents", "source", "updated_at", "updated_by")
    list_filter = ("channel_type", "format")
    fields = ("channel_type", "format", "rate_cents", "source")
    readonly_fields = ()

    def get_readonly_fields(self, request, obj=None):
        # The pair identifies the rate; change the figure, or add a new pair.
        return ("channel_type", "format") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        # Through the audited service (the form already applied its rules).
        saved = services.channel_rate_set(
            actor=Actor(user=request.user),
            channel_type=obj.channel_type,
            format=obj.format,
            rate_cents=obj.rate_cents,
            source=obj.source,
        )
        obj.pk, obj.unit, obj.updated_at, obj.updated_by = saved.pk, saved.unit, saved.updated_at, saved.updated_by

    def has_delete_permission(self, request, obj=None):
        return False  # a placement type without a rate cannot be offered: change it instead


class ReadOnlyAdmin(CheckedLookupsAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RevisionInline(admin.TabularInline):
    model = Revision
    extra = 0
    can_delete = False
    fields = ("number", "author", "initiator_value_cents", "counterparty_value_cents", "topup_cents", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class MessageInline(admin.TabularInline):
    model = ProposalMessage
    extra = 0
    can_delete = False
    fields = ("created_at", "brand", "author", "body")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("id", "initiator", "counterparty", "state", "revision_number", "turn", "updated_at", "expires_at")
    list_filter = ("state",)
    search_fields = ("initiator__name", "counterparty__name", "initiator__slug", "counterparty__slug")
    list_select_related = ("initiator", "counterparty", "turn")
    inlines = (RevisionInline, MessageInline)


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ("revision", "brand", "channel_type", "format", "quantity", "rate_cents", "value_cents", "starts_on")
    list_select_related = ("revision", "brand")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "brand", "url", "enabled", "failing_since", "created_at")
    list_filter = ("enabled",)
    search_fields = ("brand__name", "brand__slug", "url")
    list_select_related = ("brand",)
    fields = (
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
    )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "endpoint", "event", "state", "attempts", "last_status_code", "next_attempt_at", "updated_at")
    list_filter = ("state",)
    list_select_related = ("endpoint", "event")
    fields = (
        "endpoint",
        "event",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_latency_ms",
        "last_response",
        "last_error",
        "created_at",
        "succeeded_at",
    )
