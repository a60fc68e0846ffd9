"""Django admin for platform admins.

Every model, field and app has a zh/en name; categories show by name; tone tags and the
audience are edited as structure, not JSON (``admin_profile``); accounts are listed and
(de)activated in ``admin_accounts``.

The Brand admin is the approval queue: status is read-only and changes only through the
approve / reject / suspend / reinstate actions, which ask for a reason on an intermediate
page and call ``services.brand_transition`` (so every change is validated and audited).
Every other write goes through a service too, so the admin records what every other
surface records: profile corrections (``brand_update``), competition rules
(``competition_rule_create`` / ``competition_rule_delete``), team members
(``membership_set``), key revocation (``api_key_revoke``). API keys and audit events are
read-only.

One idea at ~490 lines: the partners admin, model by model; the structured profile fields
and the account admin already live in their own modules.
"""

from __future__ import annotations

import re

from django import forms
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import partners.admin_accounts  # noqa: F401  (registers the User admin)
from huiliu.admin_input import CheckedLookupsAdmin, CheckedTextForm
from huiliu.errors import error_items
from partners import selectors, services, validation
from partners.actors import Actor
from partners.admin_profile import (
    AUDIENCE_FIELDSET,
    StructuredProfileMixin,
    tone_tags_field,
    with_audience_fields,
)
from partners.models import (
    ApiKey,
    ApiKeyScope,
    AuditEvent,
    Brand,
    Category,
    Channel,
    CompetitionRule,
    Membership,
)

# The admin site speaks as the platform, not as "Django administration".
admin.site.site_header = gettext_lazy("Huiliu platform admin")
admin.site.site_title = gettext_lazy("Huiliu admin")
admin.site.index_title = gettext_lazy("Platform administration")


CATEGORY_CODE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")


def _actor(request) -> Actor:
    return Actor(user=request.user)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ChannelInline(ReadOnlyInline):
    # Read-only: the brand's scale (active_audience) is kept in step by brand_channels_set.
    model = Channel
    fields = ("type", "label", "size", "active_rate", "verification", "verified_at")
    readonly_fields = fields


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields


class AuditEventInline(ReadOnlyInline):
    model = AuditEvent
    fk_name = "brand"
    fields = ("created_at", "action", "actor", "reason", "data")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    verbose_name = gettext_lazy("history entry")
    verbose_name_plural = gettext_lazy("history")


class TransitionReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


TRANSITION_TITLES = {
    "approve": gettext_lazy("Approve selected brands"),
    "reject": gettext_lazy("Reject selected brands"),
    "suspend": gettext_lazy("Suspend selected brands"),
    "reinstate": gettext_lazy("Reinstate selected brands"),
}


def _transition_action(action: str):
    def run(modeladmin, request, queryset):
        return modeladmin.transition_view(request, queryset, action)

    run.__name__ = f"{action}_selected"
    return admin.action(description=TRANSITION_TITLES[action], permissions=["change"])(run)


# Admin form field → the shared validator's payload field.
# Model field → payload name, derived from the one brand field list.
_PAYLOAD_FIELDS = {f: validation.PAYLOAD_NAMES.get(f, f) for f in validation.BRAND_PROFILE_FIELDS}


@with_audience_fields
class BrandAdminForm(StructuredProfileMixin, forms.ModelForm):
    """Staff corrections pass the same validators as the wizard, the API and the import.

    Tone tags and the audience are edited as structure (``admin_profile``), not as JSON text.
    """

    website = forms.URLField(label=gettext_lazy("Website"), required=False, max_length=200, assume_scheme="https")
    tone_tags = tone_tags_field()

    class Meta:
        model = Brand
        fields = validation.BRAND_PROFILE_FIELDS

    def payload(self) -> dict:
        """The form's values in the shared validator's (and ``brand_update``'s) field names."""
        data = self.cleaned_data
        payload = {}
        for field, key in _PAYLOAD_FIELDS.items():
            if field in data and field != "audience":
                value = data[field]
                payload[key] = value.code if field == "category" and value is not None else value
        audience = self.audience_payload()
        if audience is not None:
            payload["audience"] = audience
        return payload

    def _field_for_error(self, key: str) -> str | None:
        """Where a service error keyed ``key`` (``creditCode``, ``audience.gender``) shows."""
        if key.startswith("audience"):
            return self.audience_error_field(key)
        back = {v: k for k, v in _PAYLOAD_FIELDS.items()}
        field = back.get(key.split(".", 1)[0])
        return field if field in self.fields else None

    def clean(self):
        data = super().clean()
        try:
            # The service's own check (validators, and its rules such as "the credit code
            # cannot be removed"), so its errors show on the fields instead of on save.
            cleaned = services.brand_update_clean(brand=self.instance, data=self.payload())
        except ValidationError as exc:
            for key, _code, message in error_items(exc):
                self.add_error(self._field_for_error(key), message)
            return data
        for field, key in _PAYLOAD_FIELDS.items():
            model_key = {"tone": "tone_tags", "stores": "store_count"}.get(key, key)
            if model_key in cleaned and field in data:
                data[field] = cleaned[model_key]
        return data


class CreditCodeSharedFilter(admin.SimpleListFilter):
    """Brands whose credit code another brand uses too: for the reviewer to look at twice."""

    title = gettext_lazy("Credit code shared")
    parameter_name = "credit_code_shared"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(credit_code_twins__gt=0)
        if self.value() == "no":
            return queryset.filter(credit_code_twins=0)
        return queryset


@admin.register(Brand)
class BrandAdmin(CheckedLookupsAdmin):
    form = BrandAdminForm
    list_display = (
        "name",
        "name_en",
        "slug",
        "category_code",
        "status_display",
        "credit_code_shared",
        "active_audience",
        "submitted_at",
    )
    list_filter = ("status", CreditCodeSharedFilter, ("category", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "name_en", "slug", "credit_code", "legal_name")
    ordering = ("status", "submitted_at")
    date_hierarchy = "submitted_at"
    list_select_related = ("category",)
    readonly_fields = (
        "slug",
        "status",
        "status_reason",
        "status_changed_at",
        "submitted_at",
        "active_audience",
        "created_at",
        "updated_at",
        "credit_code_shared_with",
    )
    fieldsets = (
        (None, {"fields": ("slug", "name", "name_en", "category", "status", "status_reason", "status_changed_at")}),
        (
            gettext_lazy("Verification"),
            {"fields": ("legal_name", "credit_code", "credit_code_shared_with", "website")},
        ),
        (
            gettext_lazy("Profile"),
            {"fields": ("price_tier", "tone_tags", "description", "store_count", "active_audience")},
        ),
        (
            gettext_lazy("Audience"),
            {
                "description": gettext_lazy(
                    "Shares in percent: each dimension adds up to 100, or is left empty when unknown."
                ),
                "fields": AUDIENCE_FIELDSET,
            },
        ),
        (gettext_lazy("API"), {"fields": ("api_rate_per_minute",)}),
        (gettext_lazy("Dates"), {"fields": ("submitted_at", "created_at", "updated_at")}),
    )
    inlines = (ChannelInline, MembershipInline, AuditEventInline)
    actions = [_transition_action(a) for a in ("approve", "reject", "suspend", "reinstate")]

    @admin.display(description=gettext_lazy("Category"), ordering="category__code")
    def category_code(self, obj):
        return str(obj.category)  # its name in the reader's language, and its code

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_display(self, obj):
        return obj.get_status_display()

    def get_queryset(self, request):
        return selectors.with_credit_code_twins(super().get_queryset(request))

    @admin.display(description=gettext_lazy("Credit code shared"), ordering="credit_code_twins")
    def credit_code_shared(self, obj):
        n = getattr(obj, "credit_code_twins", 0)
        return format_html('<span class="credit-code-shared">⚠ {}</span>', n) if n else ""

    @admin.display(description=gettext_lazy("Credit code also used by"))
    def credit_code_shared_with(self, obj):
        others = selectors.brands_sharing_credit_code(actor=Actor(system=True), brands=[obj]).get(obj.pk, [])
        if not others:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({})',
            ((reverse("admin:partners_brand_change", args=[o.pk]), o.name, o.get_status_display()) for o in others),
        )

    def has_add_permission(self, request):
        # Brands are registered by their owners (web wizard, API) or the bulk import.
        return False

    def save_model(self, request, obj, form, change):
        # Staff corrections go through the service like any other edit: the same audit record
        # (changed fields, category from/to) and matcher refresh; an admin never triggers a
        # re-review. (Brands are never added here: has_add_permission.)
        services.brand_update(actor=_actor(request), brand=obj, data=form.payload())
        obj.refresh_from_db()

    def transition_view(self, request, queryset, action: str):
        """Intermediate page: ask for the reason, then move each brand through the service."""
        reason_required = services.TRANSITIONS[action].reason_required
        form = TransitionReasonForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"].strip()
            if reason_required and not reason:
                form.add_error("reason", _("A reason is required."))
            else:
                done = 0
                for brand in queryset:
                    try:
                        services.brand_transition(actor=_actor(request), brand=brand, action=action, reason=reason)
                    except ValidationError as exc:
                        for _f, _c, message in error_items(exc):
                            self.message_user(request, f"{brand.name}: {message}", messages.ERROR)
                    else:
                        done += 1
                if done:
                    self.message_user(request, _("%(n)d brand(s) updated.") % {"n": done}, messages.SUCCESS)
                return None  # back to the change list
        context = {
            **self.admin_site.each_context(request),
            "title": TRANSITION_TITLES[action],
            "opts": self.model._meta,
            "brands": queryset,
            "action": f"{action}_selected",
            "form": form,
            "reason_required": reason_required,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/partners/brand/transition.html", context)


class CategoryForm(CheckedTextForm):
    class Meta:
        model = Category
        fields = ("code", "name_zh", "name_en", "parent", "is_leaf")

    def clean_code(self):
        code = self.cleaned_data.get("code") or ""
        if not CATEGORY_CODE.fullmatch(code):
            raise forms.ValidationError(
                _("A category code is lower-case words joined by dots, e.g. beverage.coffee."), code="invalid"
            )
        return code


@admin.register(Category)
class CategoryAdmin(CheckedLookupsAdmin):
    form = CategoryForm
    list_display = ("code", "name_zh", "name_en", "parent", "is_leaf")
    list_filter = ("is_leaf",)
    search_fields = ("code", "name_zh", "name_en")


class CompetitionRuleForm(CheckedTextForm):
    class Meta:
        model = CompetitionRule
        fields = ("category_a", "category_b", "note")

    def clean(self):
        data = super().clean()
        if data.get("category_a") and data.get("category_a") == data.get("category_b"):
            raise ValidationError(_("Brands in the same category always compete; choose two different categories."))
        return data


@admin.register(CompetitionRule)
class CompetitionRuleAdmin(CheckedLookupsAdmin):
    form = CompetitionRuleForm
    list_display = ("category_a", "category_b", "note", "created_by", "created_at")
    search_fields = ("category_a__code", "category_b__code", "note")
    list_select_related = ("category_a", "category_b", "created_by")

    def get_readonly_fields(self, request, obj=None):
        return ("category_a", "category_b", "created_by", "created_at") if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Creation goes through the service: ordered pair, audit event, matcher refresh.
        rule = services.competition_rule_create(
            actor=_actor(request), category_a=obj.category_a.code, category_b=obj.category_b.code, note=obj.note
        )
        obj.pk = rule.pk
        obj.category_a, obj.category_b = rule.category_a, rule.category_b

    def delete_model(self, request, obj):
        # Through the service: audited, and the brands on either side get fresh recommendations.
        services.competition_rule_delete(actor=_actor(request), rule=obj)

    def delete_queryset(self, request, queryset):
        # "Delete selected" too (Django's default would delete in bulk, unaudited).
        for rule in queryset.select_related("category_a", "category_b"):
            services.competition_rule_delete(actor=_actor(request), rule=rule)


@admin.register(Membership)
class MembershipAdmin(CheckedLookupsAdmin):
    list_display = ("user", "brand", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "brand__name", "brand__slug")
    autocomplete_fields = ("brand",)
    raw_id_fields = ("user",)
    list_select_related = ("user", "brand")

    def get_readonly_fields(self, request, obj=None):
        # A membership is (user, brand); editing one changes its role. Moving it to another
        # user or brand would be a different membership: delete this one and add that one.
        return ("user", "brand", "created_at") if obj else ()

    def save_model(self, request, obj, form, change):
        # Through the service: validated and audited like the owner's own team changes.
        membership = services.membership_set(actor=_actor(request), brand=obj.brand, user=obj.user, role=obj.role)
        obj.pk, obj.created_at = membership.pk, membership.created_at


@admin.register(ApiKey)
class ApiKeyAdmin(CheckedLookupsAdmin):
    # key_hash is never shown: it is not in fields, list_display or search.
    list_display = ("name", "brand", "prefix", "scope_labels", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "brand__slug", "brand__name")
    fields = ("name", "brand", "prefix", "scope_labels", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    list_select_related = ("brand",)
    actions = ["revoke_selected"]

    @admin.display(description=gettext_lazy("scopes"))
    def scope_labels(self, obj):
        return ", ".join(str(ApiKeyScope(s).label) if s in ApiKeyScope.values else s for s in obj.scopes or [])

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Revoke selected API keys"))
    def revoke_selected(self, request, queryset):
        for key in queryset:
            try:
                services.api_key_revoke(actor=_actor(request), api_key=key)
            except ValidationError as exc:
                for _f, _c, message in error_items(exc):
                    self.message_user(request, f"{key}: {message}", messages.WARNING)
            else:
                self.message_user(request, _("Revoked %(key)s.") % {"key": key}, messages.SUCCESS)


def _object_type_label(object_type: str):
    """The audited model's name in the reader's language (``object_type`` is its class name in
    lower case, as ``services.audit`` writes it)."""
    model = next((m for m in django_apps.get_models() if m._meta.model_name == object_type), None)
    return model._meta.verbose_name if model is not None else object_type


class ObjectTypeFilter(admin.SimpleListFilter):
    title = gettext_lazy("object type")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        types = model_admin.get_queryset(request).order_by().values_list("object_type", flat=True).distinct()
        return sorted(((t, _object_type_label(t)) for t in types), key=lambda choice: str(choice[1]))

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(CheckedLookupsAdmin):
    list_display = ("created_at", "action", "object_type_label", "object_id", "brand", "actor", "reason")
    list_filter = ("action", ObjectTypeFilter)
    search_fields = ("action", "object_id", "reason", "brand__slug", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("brand", "actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("object type"), ordering="object_type")
    def object_type_label(self, obj):
        return _object_type_label(obj.object_type)


# Django's own Group admin, with the same checked change-list lookups as ours.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(CheckedLookupsAdmin, auth_admin.GroupAdmin):
    pass
