"""The Django admin's change lists read filters straight from the query string: any local field
of the model may be looked up (``?slug=…``, ``?status__exact=…``), and the date hierarchy
takes ``?created_at__year=…``. A NUL in one reached PostgreSQL and a year past 9999 overflowed
a date — HTTP 500s. ``CheckedLookupsAdmin`` refuses such parameters first; Django then sends
the admin back to the unfiltered list with its "wrong parameters" notice (``?e=1``), as it
does for any lookup it cannot apply.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError

from huiliu.text import ascii_int, clean_free_text, clean_line, clean_name, forbidden_character

DATE_PARTS = ("__year", "__month", "__day")


def bad_lookup(key: str, value: str) -> bool:
    """True if a change-list parameter must not reach a query."""
    if forbidden_character(key) is not None or forbidden_character(value) is not None:
        return True
    return key.endswith(DATE_PARTS) and ascii_int(value, max_digits=4) is None


class CheckedLookupsAdmin(admin.ModelAdmin):
    """A ModelAdmin whose change list refuses parameters with control characters or a date
    part that is not a plain number (see the module's docstring)."""

    def get_changelist_instance(self, request):
        if any(bad_lookup(key, value) for key, values in request.GET.lists() for value in values):
            raise IncorrectLookupParameters
        return super().get_changelist_instance(request)


class CheckedTextForm(forms.ModelForm):
    """An admin form whose text goes through the same checks as every other way in: names and
    labels refuse control, invisible and text-direction characters (``clean_name``), other
    lines refuse control characters (``clean_line``), free text allows only line breaks and
    tabs (``clean_free_text``). A refused value is a field error, never a 500 at save time."""

    def clean(self):
        data = super().clean()
        for name, field in self.fields.items():
            value = data.get(name)
            if not isinstance(value, str) or not value or not isinstance(field, forms.CharField):
                continue
            label = str(field.label or name)
            try:
                if isinstance(field.widget, forms.Textarea):
                    data[name] = clean_free_text(value, label)
                elif "name" in name or name in ("label", "note"):
                    data[name] = clean_name(value, label)
                else:
                    data[name] = clean_line(value, label)
            except ValidationError as exc:
                self.add_error(name, exc)
        return data
