"""The zh-Hans catalogue is complete and compiled; domain messages reach the pages in Chinese."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
ZH_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _untranslated(po_text: str) -> list[str]:
    missing = []
    for block in po_text.split("\n\n"):
        if "#, fuzzy" in block:
            missing.append(block)
            continue
        msgid = re.search(r'^msgid "(.*)"$', block, flags=re.M)
        if not msgid or not msgid.group(1):
            continue  # the header
        strs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', block, flags=re.M)
        if not strs or any(not (first + rest).replace('"', "").strip() for first, rest in strs):
            missing.append(msgid.group(1))
    return missing


def test_every_message_has_a_chinese_translation():
    assert _untranslated(ZH_PO.read_text(encoding="utf-8")) == []


def test_the_compiled_catalogue_is_committed_next_to_the_source():
    mo = ZH_PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_size > 10_000


@pytest.mark.django_db
def test_validation_messages_are_shown_in_chinese_by_default(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.post(reverse("frontend:wizard_profile"), {"slug": "Bad Slug", "credit_code": "123"})
    html = response.content.decode()
    assert "统一社会信用代码必须为 18 位（当前 3 位）。" in html
    assert "品类为必填项。" in html


@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [
        ("zh-hans", 58000, "5.8万"),
        ("zh-hans", 116_989_071, "1.2亿"),
        ("zh-hans", 9999, "9999"),
        ("en", 58000, "58,000"),
        ("en", 2_570_000, "2.6M"),
    ],
)
def test_audience_sizes_read_naturally_in_each_language(language, value, shown):
    from django.utils import translation

    from frontend.templatetags.huiliu import headcount

    with translation.override(language):
        assert headcount(value) == shown
