"""Small forms of the exchange pages: decline, the message thread, a channel rate. They coerce
types only; the exchange services validate and their errors come back on the fields."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from exchange.states import DeclineReason


class DeclineForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.ChoiceField(
        label=gettext_lazy("Why do you decline?"),
        choices=[("", gettext_lazy("— choose a reason —")), *DeclineReason.choices],
        required=False,
    )
    note = forms.CharField(
        label=gettext_lazy("A note for them"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when the reason is “Other”."),
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Message"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RateForm(forms.Form):
    rate = forms.DecimalField(
        label=gettext_lazy("Rate (¥)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    source = forms.CharField(
        label=gettext_lazy("Source of the figure"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Where the figure comes from, e.g. a public price list or a survey."),
    )

    def rate_cents(self) -> int:
        return int(self.cleaned_data["rate"] * 100)
