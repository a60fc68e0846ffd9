"""A brand owner's webhooks: endpoints (add, see the secret once, rotate it, enable/disable,
remove) and each endpoint's delivery log with replay. Owner-only pages (``brand_for(need=
"keys")``: 404 for everyone else); the services decide and validate."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from exchange import selectors
from exchange.models import WebhookState
from exchange.services import webhooks as services
from frontend.forms import WebhookEndpointForm, WebhookReplayForm, apply_errors
from frontend.labels import page_error_items
from frontend.views.common import actor_of, brand_for

LOG_ROWS = 100


def _endpoint(request, brand, pk: int):
    endpoint = selectors.webhook_endpoint_list(actor=actor_of(request), brand=brand).filter(pk=pk).first()
    if endpoint is None:
        raise Http404
    return endpoint


def _flash_errors(request, exc: ValidationError) -> None:
    for _field, _code, message in page_error_items(exc):
        messages.error(request, message)


def _no_store(response, secret):
    if secret:
        response["Cache-Control"] = "no-store"  # the secret is rendered once, never cached
    return response


@login_required
def endpoint_list(request, slug: str):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="keys")
    form = WebhookEndpointForm(request.POST or None)
    secret = None
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.endpoint_create(
                actor=actor,
                brand=brand,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Webhook endpoint added. Copy its signing secret now."))
            form = WebhookEndpointForm()
    response = render(
        request,
        "frontend/webhooks/list.html",
        {
            "brand": brand,
            "form": form,
            "secret": secret,
            "created": created,
            "endpoints": selectors.webhook_endpoint_list(actor=actor, brand=brand),
        },
    )
    return _no_store(response, secret)


def _detail(request, brand, endpoint, *, secret=None, form=None, replay_form=None):
    actor = actor_of(request)
    deliveries = list(selectors.webhook_delivery_list(actor=actor, endpoint=endpoint)[:LOG_ROWS])
    response = render(
        request,
        "frontend/webhooks/detail.html",
        {
            "brand": brand,
            "endpoint": endpoint,
            "secret": secret,
            "form": form
            or WebhookEndpointForm(
                initial={"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types}
            ),
            "replay_form": replay_form or WebhookReplayForm(),
            "deliveries": deliveries,
            "retrying": (WebhookState.PENDING, WebhookState.FAILED),
        },
    )
    return _no_store(response, secret)


@login_required
def endpoint_detail(request, slug: str, pk: int):
    brand = brand_for(request, slug, need="keys")
    endpoint = _endpoint(request, brand, pk)
    form = None
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.endpoint_update(
                    actor=actor_of(request),
                    endpoint=endpoint,
                    url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                    event_types=form.cleaned_data["event_types"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Webhook endpoint saved."))
                return redirect("frontend:webhook_detail", slug=brand.slug, pk=endpoint.pk)
    return _detail(request, brand, endpoint, form=form)


@require_POST
@login_required
def endpoint_rotate(request, slug: str, pk: int):
    brand = brand_for(request, slug, need="keys")
    endpoint = _endpoint(request, brand, pk)
    # The page shows the new secret in the answer to this POST; reloading it would POST again.
    # The form carries the rotation it was made after, so a repeat rotates nothing.
    seen = request.POST.get("rotated", "")
    current = str(int(endpoint.secret_rotated_at.timestamp())) if endpoint.secret_rotated_at else ""
    if seen != current:
        messages.info(request, _("The secret was already rotated; the new one was shown once when it was made."))
        return redirect("frontend:webhook_detail", slug=brand.slug, pk=endpoint.pk)
    try:
        endpoint, secret = services.endpoint_rotate_secret(actor=actor_of(request), endpoint=endpoint)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("frontend:webhook_detail", slug=brand.slug, pk=endpoint.pk)
    messages.success(request, _("New signing secret created; the previous one keeps signing during the overlap."))
    return _detail(request, brand, endpoint, secret=secret)


@require_POST
@login_required
def endpoint_toggle(request, slug: str, pk: int):
    brand = brand_for(request, slug, need="keys")
    endpoint = _endpoint(request, brand, pk)
    try:
        endpoint = services.endpoint_update(actor=actor_of(request), endpoint=endpoint, enabled=not endpoint.enabled)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(
            request, _("Webhook endpoint enabled.") if endpoint.enabled else _("Webhook endpoint disabled.")
        )
    return redirect("frontend:webhook_detail", slug=brand.slug, pk=endpoint.pk)


@require_POST
@login_required
def endpoint_delete(request, slug: str, pk: int):
    brand = brand_for(request, slug, need="keys")
    endpoint = _endpoint(request, brand, pk)
    try:
        services.endpoint_delete(actor=actor_of(request), endpoint=endpoint)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("frontend:webhook_detail", slug=brand.slug, pk=endpoint.pk)
    messages.success(request, _("Webhook endpoint removed."))
    return redirect("frontend:webhooks", slug=brand.slug)


@require_POST
@login_required
def delivery_replay(request, slug: str, pk: int, delivery_id: int):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="keys")
    endpoint = _endpoint(request, brand, pk)
    delivery = selectors.webhook_delivery_list(actor=actor, endpoint=endpoint).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404
    try:
        services.delivery_replay(actor=actor, delivery=delivery)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("The delivery will be sent again shortly."))
    return redirect("frontend:webhook_detail", slug=brand.slug, pk=endpoint.pk)


@require_POST
@login_required
def replay_failed(request, slug: str, pk: int):
    brand = brand_for(request, slug, need="keys")
    endpoint = _endpoint(request, brand, pk)
    form = WebhookReplayForm(request.POST)
    if not form.is_valid():
        return _detail(request, brand, endpoint, replay_form=form)
    try:
        count = services.deliveries_replay_failed(
            actor=actor_of(request),
            endpoint=endpoint,
            since=form.cleaned_data["since"],
            until=form.cleaned_data["until"],
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return _detail(request, brand, endpoint, replay_form=form)
    messages.success(
        request,
        ngettext("%(n)d failed delivery will be sent again.", "%(n)d failed deliveries will be sent again.", count)
        % {"n": count},
    )
    return redirect("frontend:webhook_detail", slug=brand.slug, pk=endpoint.pk)
