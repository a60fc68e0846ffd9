"""A member's side of a brand: the dashboard, profile and channel editors, resubmission
and API keys. Every view resolves the brand through ``brand_for`` (404 for non-members)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.forms import ApiKeyForm, AudienceForm, BrandProfileForm, ChannelRows, apply_errors, apply_profile_errors
from frontend.labels import page_error_items
from frontend.views.common import actor_of, brand_for
from partners import selectors, services


@login_required
def dashboard(request):
    actor = actor_of(request)
    brands = list(selectors.brand_mine(actor=actor))
    return render(request, "frontend/brands/dashboard.html", {"brands": brands, "roles": actor.roles})


@login_required
def brand_detail(request, slug: str):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="view")
    return render(
        request,
        "frontend/brands/detail.html",
        {
            "brand": brand,
            "role": actor.role_in(brand.pk),
            "can_edit": actor.can_edit(brand.pk),
            "can_manage_keys": actor.can_manage_keys(brand.pk),
            "channels": selectors.channel_list(actor=actor, brand=brand),
            "history": selectors.audit_history(actor=actor, brand=brand)[:50],
        },
    )


@login_required
def brand_edit(request, slug: str):
    brand = brand_for(request, slug, need="edit")
    categories = list(selectors.category_list())
    if request.method == "POST":
        form = BrandProfileForm(request.POST, categories=categories, editing=True)
        audience_form = AudienceForm(request.POST)
        forms_ok = form.is_valid() & audience_form.is_valid()  # both run, so both show errors
        if forms_ok:
            data = {**form.payload(), "audience": audience_form.payload()}
            try:
                services.brand_update(actor=actor_of(request), brand=brand, data=data)
            except ValidationError as exc:
                apply_profile_errors(form, audience_form, exc)
            else:
                messages.success(request, _("The brand profile was saved."))
                return redirect("frontend:brand_detail", slug=brand.slug)
    else:
        form = BrandProfileForm(categories=categories, editing=True, initial=BrandProfileForm.initial_from(brand))
        audience_form = AudienceForm(initial=AudienceForm.initial_from(brand.audience or {}))
    return render(request, "frontend/brands/edit.html", {"brand": brand, "form": form, "audience_form": audience_form})


@login_required
def brand_channels(request, slug: str):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="edit")
    if request.method == "POST":
        rows = ChannelRows.from_post(request.POST)
        payload = rows.payload()
        if payload is not None:
            try:
                services.brand_channels_set(actor=actor, brand=brand, channels=payload)
            except ValidationError as exc:
                rows.apply_service_errors(exc)
            else:
                messages.success(request, _("The channels were saved."))
                return redirect("frontend:brand_detail", slug=brand.slug)
    else:
        rows = ChannelRows.from_payload(list(selectors.channel_list(actor=actor, brand=brand).values()))
    return render(
        request,
        "frontend/brands/channels.html",
        {"brand": brand, "rows": rows, "channel_types": ChannelRows.type_choices()},
    )


@require_POST
@login_required
def brand_resubmit(request, slug: str):
    brand = brand_for(request, slug, need="edit")
    try:
        services.brand_transition(actor=actor_of(request), brand=brand, action="resubmit")
    except ValidationError as exc:
        for _field, _code, message in page_error_items(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Your brand was resubmitted for review."))
    return redirect("frontend:brand_detail", slug=brand.slug)


@login_required
def api_keys(request, slug: str):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="keys")
    form = ApiKeyForm(request.POST or None)
    raw_key = None
    if request.method == "POST" and form.is_valid():
        try:
            key, raw_key = services.api_key_create(
                actor=actor, brand=brand, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # Rendered (not redirected) so the secret appears exactly once and is never stored.
            messages.success(request, _("API key “%(name)s” was created.") % {"name": key.name})
            form = ApiKeyForm()
    response = render(
        request,
        "frontend/brands/api_keys.html",
        {"brand": brand, "form": form, "raw_key": raw_key, "keys": selectors.api_key_list(actor=actor, brand=brand)},
    )
    if raw_key:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def api_key_revoke(request, slug: str, key_id: int):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="keys")
    key = selectors.api_key_list(actor=actor, brand=brand).filter(pk=key_id).first()
    if key is None:
        raise Http404
    try:
        services.api_key_revoke(actor=actor, api_key=key)
    except ValidationError as exc:
        for _field, _code, message in page_error_items(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("API key “%(name)s” was revoked.") % {"name": key.name})
    return redirect("frontend:api_keys", slug=brand.slug)
