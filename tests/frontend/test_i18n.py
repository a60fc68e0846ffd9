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
        ("zh-hans", 9999, "9,999"),
        ("en", 58000, "58K"),
        ("en", 2_570_000, "2.6M"),
    ],
)
def test_audience_sizes_read_naturally_in_each_language(language, value, shown):
    from django.utils import translation

    from frontend.templatetags.huiliu import headcount

    with translation.override(language):
        assert headcount(value) == shown


# The glossary: one Chinese term per concept, on every page and in the matcher's reasons.
GLOSSARY = {"active audience": "活跃受众"}
GLOSSARY_AVOID = {"active audience": "活跃用户"}


def _entries(po_text: str) -> list[tuple[str, str]]:
    out = []
    for block in po_text.split("\n\n"):
        msgid = re.search(r'^msgid "(.*)"((?:\n".*")*)', block, flags=re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? "(.*)"((?:\n".*")*)', block, flags=re.M)
        if msgid and msgstr:
            join = lambda m: (m.group(1) + m.group(2)).replace('"\n"', "").replace("\n", "").replace('"', "")  # noqa: E731
            out.append((join(msgid), join(msgstr)))
    return out


def test_each_glossary_term_has_one_chinese_translation():
    wrong = [
        (msgid, msgstr)
        for msgid, msgstr in _entries(ZH_PO.read_text(encoding="utf-8"))
        for term, zh in GLOSSARY.items()
        if (term in msgid.lower() and zh not in msgstr) or GLOSSARY_AVOID[term] in msgstr
    ]
    assert wrong == []


def test_the_matchers_reasons_use_the_glossary_term():
    from matching import explain

    source = Path(explain.__file__).read_text(encoding="utf-8")
    assert "活跃受众" in source and "活跃用户" not in source
