"""Structured editing of a brand's profile in the Django admin (``partners.admin``).

Tone tags are ticked from the vocabulary (a tag the brand set outside it stays on offer, so
saving never drops it). The audience is one percentage per dimension key (gender, age, city
tier) plus a list of regions, turned back into the profile's shares for the shared validator
(``partners.validation``), whose errors come back next to their dimension. No JSON text.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.text import capfirst, format_lazy
from django.utils.translation import get_language

from partners.models import Brand
from partners.reference import (
    AUDIENCE_DIMENSION_LABELS,
    AUDIENCE_DIMENSIONS,
    AUDIENCE_KEY_LABELS,
    CN_REGIONS,
    TONE_LABELS,
    tone_label,
)


def _share_field(dimension: str, key: str) -> str:
    """The form field of one audience share: ``audience_age_45_plus`` for ``age`` / ``45+``."""
    slug = re.sub(r"[^0-9a-z]+", "_", key.replace("<", "under_").replace("+", "_plus")).strip("_")
    return f"audience_{dimension}_{slug}"


# Audience share fields (percent) by dimension and key, and the regions field.
AUDIENCE_SHARE_FIELDS: dict[str, dict[str, str]] = {
    dim: {key: _share_field(dim, key) for key in keys} for dim, keys in AUDIENCE_DIMENSIONS.items()
}
AUDIENCE_REGIONS_FIELD = "audience_regions"
# For a ModelAdmin fieldset: one row per dimension, then the regions.
AUDIENCE_FIELDSET: list[Any] = [tuple(by_key.values()) for by_key in AUDIENCE_SHARE_FIELDS.values()] + [
    AUDIENCE_REGIONS_FIELD
]
_AUDIENCE_FIELD_NAMES = [
    AUDIENCE_REGIONS_FIELD,
    *(n for by_key in AUDIENCE_SHARE_FIELDS.values() for n in by_key.values()),
]


def tone_tags_field() -> forms.MultipleChoiceField:
    """The tone tags as ticks; the choices are filled per form (language, the brand's own tags)."""
    return forms.MultipleChoiceField(
        label=capfirst(Brand._meta.get_field("tone_tags").verbose_name),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def _audience_form_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for dim, by_key in AUDIENCE_SHARE_FIELDS.items():
        for key, name in by_key.items():
            fields[name] = forms.DecimalField(
                label=format_lazy("{} · {} (%)", AUDIENCE_DIMENSION_LABELS[dim], AUDIENCE_KEY_LABELS[dim][key]),
                required=False,
                min_value=0,
                max_value=100,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.1", "min": 0, "max": 100, "class": "share-input"}),
            )
    fields[AUDIENCE_REGIONS_FIELD] = forms.MultipleChoiceField(
        label=AUDIENCE_DIMENSION_LABELS["regions"],
        required=False,
        widget=FilteredSelectMultiple(AUDIENCE_DIMENSION_LABELS["regions"], is_stacked=False),
    )
    return fields


def with_audience_fields(form_class: type[forms.BaseForm]) -> type[forms.BaseForm]:
    """Add the audience fields to a form class, following ``AUDIENCE_DIMENSIONS`` (no copy of the
    keys to keep in step). ModelAdmin's form factory takes them from ``declared_fields`` like
    fields written in the class body."""
    for name, field in _audience_form_fields().items():
        form_class.base_fields[name] = field
        form_class.declared_fields[name] = field
    return form_class


class StructuredProfileMixin:
    """Fills the tone and audience fields from the brand, and turns them back into a payload."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language() or "zh-hans"
        instance = self.instance
        current = list(instance.tone_tags or []) if instance.pk else []
        if "tone_tags" in self.fields:
            # The brand's own tags first and in its order: saving unchanged ticks changes nothing.
            ordered = current + [key for key in TONE_LABELS if key not in current]
            self.fields["tone_tags"].choices = [(key, tone_label(key, language)) for key in ordered]
            self.initial["tone_tags"] = current
        if AUDIENCE_REGIONS_FIELD in self.fields:
            self.fields[AUDIENCE_REGIONS_FIELD].choices = sorted(
                ((code, en if language.startswith("en") else zh) for code, (zh, en) in CN_REGIONS.items()),
                key=lambda choice: choice[0],
            )
        audience = (instance.audience or {}) if instance.pk else {}
        for dim, fields in AUDIENCE_SHARE_FIELDS.items():
            for key, name in fields.items():
                share = (audience.get(dim) or {}).get(key)
                if share is not None:
                    self.initial[name] = f"{float(share) * 100:g}"
        self.initial[AUDIENCE_REGIONS_FIELD] = list(audience.get("regions") or [])

    def audience_payload(self) -> dict | None:
        """The audience as the profile stores it; None when the form has no audience fields or
        one of them was already refused (then the stored audience is left as it is)."""
        data = self.cleaned_data
        if AUDIENCE_REGIONS_FIELD not in self.fields or any(n in self.errors for n in _AUDIENCE_FIELD_NAMES):
            return None
        out: dict = {}
        for dim, fields in AUDIENCE_SHARE_FIELDS.items():
            values = {key: data.get(name) for key, name in fields.items()}
            if all(v is None for v in values.values()):
                continue  # an empty dimension is "not known", not zero
            out[dim] = {key: round(float(v) / 100, 4) for key, v in values.items() if v}
        if data.get(AUDIENCE_REGIONS_FIELD):
            out["regions"] = list(data[AUDIENCE_REGIONS_FIELD])
        return out

    @staticmethod
    def audience_error_field(key: str) -> str | None:
        """The field a validator error keyed ``audience.<dimension>`` shows on (the dimension's
        first share); None for the form as a whole."""
        dim = key.split(".", 1)[1] if "." in key else ""
        if dim == "regions":
            return AUDIENCE_REGIONS_FIELD
        if dim in AUDIENCE_SHARE_FIELDS:
            return next(iter(AUDIENCE_SHARE_FIELDS[dim].values()))
        return None
