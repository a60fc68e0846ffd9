"""Accounts in the Django admin: platform staff find a person (by e-mail, name or brand), see
their brands, and deactivate or reactivate the account through ``user_set_active`` (audited;
no self-lock-out; a staff account only by a superuser). Registered by ``partners.admin``.

No password field at all (not even Django's masked hash summary): people set their own.
Accounts are created by signing up and never deleted here — deactivate instead, so the audit
trail keeps pointing at them. Admin rights are granted by superusers only.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiliu.admin_input import CheckedLookupsAdmin, CheckedTextForm
from huiliu.errors import error_items
from partners import services
from partners.actors import Actor
from partners.models import User


class UserAdminForm(CheckedTextForm):
    class Meta:
        model = User
        fields = ("display_name", "language", "is_active", "is_staff", "is_superuser")


@admin.register(User)
class UserAdmin(CheckedLookupsAdmin):
    """Accounts: find a person, see their brands, deactivate or reactivate them."""

    form = UserAdminForm
    list_display = ("username", "display_name", "is_active", "is_staff", "brands", "last_login", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("username", "email", "display_name", "memberships__brand__name", "memberships__brand__slug")
    ordering = ("-date_joined",)
    actions = ["deactivate_selected", "reactivate_selected"]

    def get_fields(self, request, obj=None):
        return (
            "username",
            "email",
            "display_name",
            "language",
            "is_active",
            "is_staff",
            "is_superuser",
            "brands",
            "last_login",
            "date_joined",
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = ["username", "email", "brands", "last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser"]
        return readonly

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__brand")

    @admin.display(description=gettext_lazy("brands"))
    def brands(self, obj):
        return ", ".join(f"{m.brand.name} ({m.get_role_display()})" for m in obj.memberships.all()) or "—"

    def has_add_permission(self, request):
        return False  # people sign up themselves

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead

    def save_model(self, request, obj, form, change):
        wanted = obj.is_active
        stored = User.objects.get(pk=obj.pk)
        obj.is_active = stored.is_active  # the service decides (and audits) the change
        obj.save()
        if wanted != stored.is_active:
            self._set_active(request, obj, wanted)
            obj.refresh_from_db()

    def _set_active(self, request, user: User, is_active: bool) -> bool:
        try:
            services.user_set_active(actor=Actor(user=request.user), user=user, is_active=is_active)
        except ValidationError as exc:
            for _f, _c, message in error_items(exc):
                self.message_user(request, f"{user}: {message}", messages.ERROR)
            return False
        return True

    @admin.action(description=gettext_lazy("Deactivate selected accounts"), permissions=["change"])
    def deactivate_selected(self, request, queryset):
        done = sum(self._set_active(request, user, False) for user in queryset)
        if done:
            self.message_user(request, _("%(n)d account(s) deactivated.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Reactivate selected accounts"), permissions=["change"])
    def reactivate_selected(self, request, queryset):
        done = sum(self._set_active(request, user, True) for user in queryset)
        if done:
            self.message_user(request, _("%(n)d account(s) reactivated.") % {"n": done}, messages.SUCCESS)
