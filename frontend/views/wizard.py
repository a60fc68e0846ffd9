"""Brand registration wizard: profile → audience → channels → review & submit.

Each step validates with the shared validators and keeps its cleaned payload in the session;
nothing is written until the review step calls ``brand_register`` once.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.forms import AudienceForm, BrandProfileForm, ChannelRows, apply_errors
from frontend.labels import page_error_items
from frontend.views.common import actor_of
from partners import selectors, services, validation
from partners.errors import PartnersError

SESSION_KEY = "brand_wizard"
STEPS = ("profile", "audience", "channels", "review")


def _state(request) -> dict:
    return request.session.get(SESSION_KEY) or {}


def _save(request, step: str, value) -> None:
    state = _state(request)
    state[step] = value
    request.session[SESSION_KEY] = state


def _context(step: str, **extra) -> dict:
    return {"step": step, "steps": STEPS, "step_index": STEPS.index(step) + 1, **extra}


@login_required
def start(request):
    return redirect("frontend:wizard_profile")


@login_required
def profile(request):
    categories = list(selectors.category_list())
    saved = _state(request).get("profile")
    form = BrandProfileForm(
        request.POST or None, categories=categories, initial=BrandProfileForm.initial_from(saved) if saved else None
    )
    if request.method == "POST":
        form.is_valid()  # coerce types; the shared validator then checks every field at once
        payload = form.payload()
        try:
            validation.clean_brand_profile(
                payload, categories={c.code: c for c in categories}, require_credit_code=True
            )
            # brand_register checks this again on submit; saying it now saves a round trip.
            if selectors.brand_slug_taken(slug=payload["slug"]):
                raise ValidationError(
                    {"slug": ValidationError(_("This slug is already taken."), code=PartnersError.SLUG_TAKEN)}
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        if not form.errors:
            _save(request, "profile", payload)
            return redirect("frontend:wizard_audience")
    return render(request, "frontend/wizard/profile.html", _context("profile", form=form))


@login_required
def audience(request):
    state = _state(request)
    if "profile" not in state:
        return redirect("frontend:wizard_profile")
    form = AudienceForm(request.POST or None, initial=AudienceForm.initial_from(state.get("audience") or {}))
    if request.method == "POST" and form.is_valid():
        payload = form.payload()
        try:
            validation.validate_audience(payload)
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            _save(request, "audience", payload)
            return redirect("frontend:wizard_channels")
    return render(request, "frontend/wizard/audience.html", _context("audience", form=form))


@login_required
def channels(request):
    state = _state(request)
    if "audience" not in state:
        return redirect("frontend:wizard_audience" if "profile" in state else "frontend:wizard_profile")
    if request.method == "POST":
        rows = ChannelRows.from_post(request.POST)
        payload = rows.payload()
        if payload is not None:
            try:
                cleaned = validation.clean_channels(payload)
            except ValidationError as exc:
                rows.apply_service_errors(exc)
            else:
                _save(request, "channels", cleaned)
                return redirect("frontend:wizard_review")
    else:
        rows = ChannelRows.from_payload(state.get("channels") or [])
    return render(
        request,
        "frontend/wizard/channels.html",
        _context("channels", rows=rows, channel_types=ChannelRows.type_choices()),
    )


@login_required
def review(request):
    state = _state(request)
    if "channels" not in state:
        return redirect("frontend:wizard_start")
    errors: list[tuple[str, str, str]] = []
    if request.method == "POST":
        data = {**state["profile"], "audience": state.get("audience") or {}, "channels": state["channels"]}
        try:
            brand = services.brand_register(actor=actor_of(request), data=data)
        except ValidationError as exc:
            errors = page_error_items(exc)
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, _("Your brand was submitted for review. We will e-mail you when it is decided."))
            return redirect("frontend:brand_detail", slug=brand.slug)
    categories = selectors.category_lookup()
    profile_data = state["profile"]
    return render(
        request,
        "frontend/wizard/review.html",
        _context(
            "review",
            profile=profile_data,
            category=categories.get(profile_data.get("category")),
            audience=state.get("audience") or {},
            channels=[{**c, "active_size": round(c["size"] * c["active_rate"])} for c in state["channels"]],
            scale=validation.active_audience(state["channels"]),
            errors=errors,
        ),
    )


@require_POST
@login_required
def cancel(request):
    request.session.pop(SESSION_KEY, None)
    messages.info(request, _("The registration was discarded."))
    return redirect("frontend:dashboard")
