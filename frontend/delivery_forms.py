"""Forms of the delivery panel: a report per placement (the promoter's) and a dispute per report
(the promoted side's). They only parse; ``exchange.services.delivery`` validates and decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from exchange.states import DisputeReason


class DeliveryReportForm(forms.Form):
    reach = forms.IntegerField(
        label=gettext_lazy("Delivered reach"),
        help_text=gettext_lazy("In the placement's unit, as your back office counts it."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    delivered_at = forms.DateTimeField(
        label=gettext_lazy("Delivered on"),
        help_text=gettext_lazy("Beijing time."),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    proof_image = forms.FileField(
        label=gettext_lazy("Proof screenshot"),
        required=False,
        help_text=gettext_lazy("PNG, JPEG or WebP, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    proof_url = forms.CharField(
        label=gettext_lazy("Or a proof link"),
        required=False,
        max_length=600,
        help_text=gettext_lazy("An https:// link to the post or message."),
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2100,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeliveryDisputeForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("What is wrong?"),
        choices=[("", gettext_lazy("— choose a reason —")), *DisputeReason.choices],
        required=False,
    )
    note = forms.CharField(
        label=gettext_lazy("A note for them"),
        required=False,
        max_length=2100,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when the reason is “Other”."),
    )
