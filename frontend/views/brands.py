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

from frontend.forms import (
    ApiKeyForm,
    AudienceForm,
    BrandProfileForm,
    ChannelRows,
    LogoForm,
    apply_errors,
    apply_profile_errors,
)
from frontend.labels import label_of, page_error_items
from frontend.views.common import actor_of, brand_for
from frontend.views.review import ACTIONS_BY_STATUS
from partners import selectors, services
from partners.usage import usage_days


@login_required
def dashboard(request):
    actor = actor_of(request)
    brands = list(selectors.brand_mine(actor=actor))
    return render(request, "frontend/brands/dashboard.html", {"brands": brands, "roles": actor.roles})


@login_required
def brand_detail(request, slug: str):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="view")
    role = actor.role_in(brand.pk)
    return render(
        request,
        "frontend/brands/detail.html",
        {
            "brand": brand,
            "role": role,
            # A platform admin who is not a member reads the page as a reviewer: neutral
            # wording, and the review actions of the brand's status instead of "resubmit".
            "reviewer": role is None and actor.is_admin,
            "review_actions": ACTIONS_BY_STATUS.get(brand.status, []) if actor.is_admin else [],
            "can_edit": actor.can_edit(brand.pk),
            "can_manage_keys": actor.can_manage_keys(brand.pk),
            "channels": selectors.channel_list(actor=actor, brand=brand),
            "history": selectors.audit_history(actor=actor, brand=brand)[:50],
            # Why a brand is in review again: its legal identity changed (old → new).
            "kyb_changes": _labelled(selectors.kyb_changes_unreviewed(actor=actor, brand_ids=[brand.pk])).get(brand.pk),
        },
    )


def _labelled(changes: dict[int, list[tuple[str, str, str]]]) -> dict[int, list[tuple[str, str, str]]]:
    """``kyb_changes_unreviewed`` with each field's label."""
    return {pk: [(label_of(field), old, new) for field, old, new in rows] for pk, rows in changes.items()}


@login_required
def brand_edit(request, slug: str):
    """The profile editor. Every error shows in one round (the form's type checks and the
    shared validator's, as in the wizard). A change of the legal identity that would send an
    approved brand back to review is saved only once the member confirms it (``confirm_review``)."""
    actor = actor_of(request)
    brand = brand_for(request, slug, need="edit")
    categories = list(selectors.category_list())
    confirm_review: list[tuple[str, str, str]] = []
    if request.method == "POST":
        form = BrandProfileForm(request.POST, categories=categories, editing=True)
        audience_form = AudienceForm(request.POST)
        form.is_valid()  # coerce types; the shared validator then checks every field at once
        data = form.payload()
        if audience_form.is_valid():
            data["audience"] = audience_form.payload()
        fields = None
        try:
            fields = services.brand_update_clean(brand=brand, data=data)
        except ValidationError as exc:
            apply_profile_errors(form, audience_form, exc)
        if fields is not None and not form.errors and not audience_form.has_errors():
            review = services.brand_update_needs_review(actor=actor, brand=brand, fields=fields)
            if review and request.POST.get("confirm_review") != "1":
                confirm_review = [(label_of(k), getattr(brand, k), fields[k]) for k in review]
            else:
                return _save_profile(request, actor, brand, data)
    else:
        form = audience_form = None
    return edit_page(request, brand, form=form, audience_form=audience_form, confirm_review=confirm_review)


def edit_page(request, brand, *, form=None, audience_form=None, confirm_review=(), logo_form=None):
    """The profile editor page; forms not given start from the stored brand."""
    if form is None:
        form = BrandProfileForm(
            categories=list(selectors.category_list()), editing=True, initial=BrandProfileForm.initial_from(brand)
        )
    if audience_form is None:
        audience_form = AudienceForm(initial=AudienceForm.initial_from(brand.audience or {}))
    return render(
        request,
        "frontend/brands/edit.html",
        {
            "brand": brand,
            "form": form,
            "audience_form": audience_form,
            "confirm_review": confirm_review,
            "logo_form": logo_form or LogoForm(),
        },
    )


def _save_profile(request, actor, brand, data):
    try:
        saved = services.brand_update(actor=actor, brand=brand, data=data)
    except ValidationError as exc:  # e.g. permission lost meanwhile: shown on the brand page
        for _field, _code, message in page_error_items(exc):
            messages.error(request, message)
    else:
        if saved.status != brand.status:
            messages.warning(
                request,
                _(
                    "The brand profile was saved. Because its legal entity or credit code changed, the brand is "
                    "back in review: it is not listed in the marketplace until the Huiliu team approves it again."
                ),
            )
        else:
            messages.success(request, _("The brand profile was saved."))
    return redirect("frontend:brand_detail", slug=brand.slug)


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
    keys = list(selectors.api_key_list(actor=actor, brand=brand))
    for key in keys:  # from the usage counters (partners/usage.py), not a log
        week = usage_days(key.pk, days=7)
        key.week_requests = sum(d.requests for d in week)
        key.week_errors = sum(d.errors for d in week)
    response = render(
        request,
        "frontend/brands/api_keys.html",
        {"brand": brand, "form": form, "raw_key": raw_key, "keys": keys},
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
