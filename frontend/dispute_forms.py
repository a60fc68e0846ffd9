"""Forms of the dispute pages. They only parse; ``exchange.services.disputes`` validates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

EVIDENCE_ACCEPT = "image/png,image/jpeg,image/webp,application/pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [f for f in data if f]
        return [data] if data else []


class EvidenceMixin(forms.Form):
    files = MultipleFileField(
        label=gettext_lazy("Evidence files"),
        required=False,
        help_text=gettext_lazy("Screenshots (PNG, JPEG, WebP) or PDF, each at most 5 MB."),
    )
    links = forms.CharField(
        label=gettext_lazy("Evidence links"),
        required=False,
        max_length=5200,
        help_text=gettext_lazy("https:// links, one per line."),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://"}),
    )

    def evidence(self) -> list[dict]:
        items = [{"file": f} for f in self.cleaned_data.get("files") or []]
        for line in (self.cleaned_data.get("links") or "").splitlines():
            if line.strip():
                items.append({"url": line.strip()})
        return items


class DisputeOpenForm(EvidenceMixin):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=())
    statement = forms.CharField(
        label=gettext_lazy("Your statement"),
        max_length=4100,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "What is wrong, and what the figures should be. The other brand and the platform read it."
        ),
    )

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "—"), *reasons]


class DisputeAnswerForm(EvidenceMixin):
    answer = forms.CharField(
        label=gettext_lazy("Your answer"), max_length=4100, widget=forms.Textarea(attrs={"rows": 5})
    )


class EvidenceForm(EvidenceMixin):
    pass


class DisputeResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[
            ("upheld", gettext_lazy("Upheld: adjust the figures")),
            ("rejected", gettext_lazy("Rejected: the figures stand")),
        ],
        widget=forms.RadioSelect,
    )
    decision = forms.CharField(
        label=gettext_lazy("Decision"),
        max_length=4100,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Both brands read it."),
    )
