"""Registration reports every problem of its input at once — profile fields and channels alike —
as docs/API.md promises, so a partner system fixes its payload in one round."""

from __future__ import annotations

import pytest

from partners.models import Brand
from tests.api.test_partners_mutations import REGISTER, registration

pytestmark = pytest.mark.django_db


def test_profile_and_channel_errors_come_back_together(as_other):
    bad = registration(
        creditCode="91440300MA5HEYTEA7",
        channels=[{"type": "wecom", "size": 500000, "activeRate": 0.4}, {"type": "app", "size": 10, "activeRate": 1.5}],
    )
    errors = as_other(REGISTER, {"input": bad})["registerBrand"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("creditCode", "invalid_credit_code"),
        ("channels[1].activeRate", "out_of_range"),
    ]
    assert not Brand.objects.filter(slug="heytea").exists()
