"""One audit vocabulary: every ``AuditAction`` has a Chinese and an English label, pages show
the label (never the raw code), and stored present-tense codes were renamed."""

import importlib
import re

import pytest
from django.apps import apps
from django.utils import translation

from frontend.templatetags.huiliu import audit_action
from partners.models import AuditAction, AuditEvent
from tests.factories import BrandFactory

CHINESE = re.compile(r"[\u4e00-\u9fff]")


# Actions added on a branch whose zh-Hans catalogue entries are written after the merge
# (locale/ is edited in one place): strict, so the mark goes once they are translated.
AWAITING_TRANSLATION = {AuditAction.RECOMMENDATION_UNDISMISSED}


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(a, marks=pytest.mark.xfail(strict=True, reason="zh-Hans label added after the merge"))
        if a in AWAITING_TRANSLATION
        else a
        for a in AuditAction
    ],
    ids=lambda a: a.value,
)
def test_every_audit_action_has_a_chinese_and_an_english_label(action):
    with translation.override("en"):
        en = str(action.label)
    with translation.override("zh-hans"):
        zh = str(action.label)
    assert en and en != action.value
    assert zh != en and zh != action.value
    assert CHINESE.search(zh), f"{action.value}: {zh!r} is not Chinese"


def test_the_history_shows_the_label_and_an_unknown_code_as_it_is():
    with translation.override("zh-hans"):
        assert audit_action(AuditAction.BRAND_KYB_CHANGED) == str(AuditAction.BRAND_KYB_CHANGED.label)
        assert audit_action("competition_rule.created") == str(AuditAction.COMPETITION_RULE_CREATED.label)
        assert audit_action("something.else") == "something.else"


@pytest.mark.django_db
def test_stored_present_tense_codes_are_renamed_to_the_past_tense():
    migration = importlib.import_module("partners.migrations.0005_audit_action_past_tense")
    brand = BrandFactory()
    for old in migration.RENAMED:
        AuditEvent.objects.create(action=old, brand=brand, object_type="brand", object_id=str(brand.pk))
    migration.forwards(apps, None)
    stored = set(AuditEvent.objects.filter(brand=brand).values_list("action", flat=True))
    assert stored == {
        AuditAction.BRAND_APPROVED,
        AuditAction.BRAND_REJECTED,
        AuditAction.BRAND_SUSPENDED,
        AuditAction.BRAND_REINSTATED,
        AuditAction.BRAND_RESUBMITTED,
    }
    migration.backwards(apps, None)
    assert set(AuditEvent.objects.filter(brand=brand).values_list("action", flat=True)) == set(migration.RENAMED)
