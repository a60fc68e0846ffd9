"""Who acted on a brand, as its members see it: a platform admin is "Huiliu team", never the
admin's name or e-mail — in the API's ``auditEvents { actorName }`` and in the web history
alike (one helper, ``partners.selectors.audit_actor_name``). Admins see the real name."""

from __future__ import annotations

import pytest
from django.test import Client

from partners import services
from partners.actors import Actor
from partners.models import ApiKeyScope
from tests.api.conftest import session, with_key
from tests.factories import AdminFactory

HISTORY = "{ myBrands { slug auditEvents(limit: 20) { action actorName } } }"
BRAND_HISTORY = """query($slug: String!) { brand(slug: $slug) { auditEvents(limit: 20) { action actorName } } }"""


@pytest.fixture
def reviewer(db):
    return AdminFactory(username="li.shenhe@huiliu.example", display_name="李审核")


@pytest.fixture
def reviewed(brand, owner, reviewer):
    """The brand suspended by the reviewer, and a key made by its owner that edits it."""
    services.brand_suspend(actor=Actor(user=reviewer), brand=brand, reason="刷量")
    _key, raw = services.api_key_create(
        actor=Actor(user=owner), brand=brand, name="crm-sync", scopes=[ApiKeyScope.READ, ApiKeyScope.WRITE]
    )
    key = services.api_key_authenticate(raw)
    services.brand_update(actor=Actor(api_key=key), brand=brand, data={"description": "由 CRM 同步"})
    return brand


def names(events: list[dict]) -> dict[str, str]:
    return {e["action"]: e["actorName"] for e in events}


def test_members_see_the_huiliu_team_not_the_reviewing_admin_in_the_api(reviewed, owner):
    (mine,) = session(owner)(HISTORY, HTTP_ACCEPT_LANGUAGE="en")["myBrands"]
    seen = names(mine["auditEvents"])
    assert seen["BRAND_SUSPENDED"] == "Huiliu team"
    assert seen["BRAND_UPDATED"] == "API key “crm-sync”"
    assert seen["API_KEY_CREATED"] == str(owner)
    text = repr(mine)
    assert "李审核" not in text and "li.shenhe" not in text


def test_an_api_key_sees_the_huiliu_team_too(reviewed, owner):
    _key, raw = services.api_key_create(actor=Actor(user=owner), brand=reviewed, name="reader", scopes=["read"])
    events = with_key(raw)(BRAND_HISTORY, {"slug": reviewed.slug}, HTTP_ACCEPT_LANGUAGE="en")["brand"]["auditEvents"]
    assert names(events)["BRAND_SUSPENDED"] == "Huiliu team"
    assert "李审核" not in repr(events)


def test_the_api_speaks_the_requests_language(reviewed, owner):
    (mine,) = session(owner)(HISTORY, HTTP_ACCEPT_LANGUAGE="zh-hans")["myBrands"]
    assert names(mine["auditEvents"])["BRAND_SUSPENDED"] == "汇流团队"


def test_admins_see_the_real_name_in_the_api(reviewed, reviewer):
    events = session(reviewer)(BRAND_HISTORY, {"slug": reviewed.slug})["brand"]["auditEvents"]
    assert names(events)["BRAND_SUSPENDED"] == "李审核"


def test_the_web_history_uses_the_same_names(reviewed, owner, reviewer):
    url = f"/dashboard/brands/{reviewed.slug}/"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(owner)
    page = client.get(url).content.decode()
    assert "Huiliu team" in page and "API key “crm-sync”" in page
    assert "李审核" not in page and "li.shenhe" not in page
    client.force_login(reviewer)
    page = client.get(url).content.decode()
    assert "李审核" in page
