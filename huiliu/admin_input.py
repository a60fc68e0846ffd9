"""The Django admin's change lists read filters straight from the query string: any local field
of the model may be looked up (``?slug=…``, ``?status__exact=…``), and the date hierarchy
takes ``?created_at__year=…``. A NUL in one reached PostgreSQL and a year past 9999 overflowed
a date — HTTP 500s. ``CheckedLookupsAdmin`` refuses such parameters first; Django then sends
the admin back to the unfiltered list with its "wrong parameters" notice (``?e=1``), as it
does for any lookup it cannot apply.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters

from huiliu.text import ascii_int, forbidden_character

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
