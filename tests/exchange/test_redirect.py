"""The redirect /t/<code>: a 302 to the destination with a fresh click id, a visitor cookie, a
click event with a bot verdict — and nothing personal kept. Unknown codes get the product's
404 page and no event; late clicks still redirect, flagged; a cached link costs no query."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.utils import timezone

from exchange import streams
from exchange.models import BotReason, CampaignPlacement, ClickEvent, Ingest, TrackingLink, UaClass, VisitorKind
from exchange.services import clicks, tracking
from exchange.states import CampaignState
from exchange.visitors import VISITOR_COOKIE, hashed_visitor

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
WECHAT_PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN"
)
HEX32 = re.compile(r"^[0-9a-f]{32}$")
IP = "203.0.113.77"
# The embedded default (no REDIS_URL) writes every click straight to the database.
needs_stream = pytest.mark.skipif(not streams.enabled(), reason="needs REDIS_URL (make test)")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # burst counters and cached links of earlier tests
    yield
    cache.clear()


@pytest.fixture
def link(campaign):
    """A link whose placement window is running now."""
    link = TrackingLink.objects.select_related("placement").first()
    now = timezone.now()
    CampaignPlacement.objects.filter(pk=link.placement_id).update(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    return link


def click(client, code, *, method="get", ua=CHROME, **extra):
    return getattr(client, method)(f"/t/{code}", HTTP_USER_AGENT=ua, REMOTE_ADDR=IP, **extra)


def stored() -> list[ClickEvent]:
    clicks.events_flush()
    return list(ClickEvent.objects.order_by("occurred_at", "id"))


@needs_stream
def test_redirects_to_the_destination_with_a_fresh_click_id(client, link):
    first, second = click(client, link.code), click(client, link.code)
    assert first.status_code == 302 and first["Cache-Control"] == "no-store"
    location = first["Location"]
    assert location.startswith(link.destination + "&hl_click=")
    click_ids = [dict(parse_qsl(urlsplit(r["Location"]).query))["hl_click"] for r in (first, second)]
    assert all(HEX32.match(c) for c in click_ids) and click_ids[0] != click_ids[1]
    events = stored()
    assert [e.click_id.hex for e in events] == click_ids
    assert len({e.event_id for e in events}) == 2
    event = events[0]
    assert (event.code, event.link_id, event.leg_id) == (link.code, link.pk, link.leg_id)
    assert (event.ua_class, event.is_bot, event.bot_reason, event.outside_window) == (UaClass.BROWSER, False, "", False)
    assert event.ingest == Ingest.STREAM


def test_a_new_visitor_gets_the_cookie_and_keeps_its_id(client, link):
    first = click(client, link.code)
    cookie = first.cookies[VISITOR_COOKIE]
    assert HEX32.match(cookie.value) and cookie["path"] == "/t/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    second = click(client, link.code)  # the test client sends the cookie back
    assert VISITOR_COOKIE not in second.cookies, "not planted again"
    first_event, second_event = stored()
    assert first_event.visitor_id == second_event.visitor_id == cookie.value
    assert (first_event.visitor_kind, second_event.visitor_kind) == (VisitorKind.HASH, VisitorKind.COOKIE)


def test_without_a_cookie_the_visitor_is_a_salted_hash_and_no_address_is_kept(client, link):
    click(client, link.code, HTTP_REFERER="https://mp.weixin.qq.com/s/SECRET-PATH?token=SECRET")
    (event,) = stored()
    assert event.visitor_id == hashed_visitor(IP, CHROME, timezone.localdate())
    assert event.referrer_host == "mp.weixin.qq.com"
    row = " ".join(str(v) for v in ClickEvent.objects.values().get().values())
    assert IP not in row and "SECRET" not in row


def test_the_salt_changes_every_day():
    today = timezone.localdate()
    assert hashed_visitor(IP, CHROME, today) == hashed_visitor(IP, CHROME, today)
    assert hashed_visitor(IP, CHROME, today) != hashed_visitor(IP, CHROME, today + timedelta(days=1))
    assert hashed_visitor(IP, CHROME, today) != hashed_visitor("203.0.113.78", CHROME, today)


def test_a_malformed_cookie_is_replaced(client, link):
    client.cookies[VISITOR_COOKIE] = "<script>"
    response = click(client, link.code)
    assert HEX32.match(response.cookies[VISITOR_COOKIE].value)
    assert stored()[0].visitor_kind == VisitorKind.HASH


@pytest.mark.parametrize("code", ["Unknown123", "zzzzzzzzzz"])
def test_an_unknown_code_gets_the_404_page_and_no_event(client, campaign, code):
    response = click(client, code)
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert VISITOR_COOKIE not in response.cookies
    assert stored() == []
    if streams.enabled():
        assert streams.backlog().length == 0


@pytest.mark.parametrize("path", ["/t/short", "/t/" + "a" * 17, "/t/bad-code!", "/t/abcdefgh/"])
def test_what_cannot_be_a_code_is_a_404(client, campaign, path):
    assert client.get(path).status_code == 404
    assert stored() == []


def test_only_get_and_head_are_answered(client, link):
    assert client.post(f"/t/{link.code}").status_code == 405
    assert stored() == []


def test_clicks_outside_the_window_still_redirect_but_are_flagged(client, campaign):
    before = TrackingLink.objects.first()  # the window starts in two days
    CampaignPlacement.objects.exclude(pk=before.placement_id).update(
        starts_at=timezone.now() - timedelta(days=30), ends_at=timezone.now() - timedelta(days=20)
    )
    campaign.state = CampaignState.COMPLETED
    campaign.save()
    after = TrackingLink.objects.exclude(pk=before.pk).first()
    assert click(client, before.code).status_code == 302
    assert click(client, after.code).status_code == 302
    assert [e.outside_window for e in stored()] == [True, True]


@pytest.mark.parametrize(
    ("ua", "ua_class", "reason"),
    [
        (WECHAT_PHONE, UaClass.MOBILE, ""),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", UaClass.BOT, BotReason.BOT_AGENT),
        (
            "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            UaClass.BOT,
            "bot_agent",
        ),
        ("curl/8.5.0", UaClass.BOT, BotReason.BOT_AGENT),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", UaClass.PREVIEW, "preview_agent"),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", UaClass.PREVIEW, BotReason.PREVIEW_AGENT),
        ("TelegramBot (like TwitterBot)", UaClass.PREVIEW, BotReason.PREVIEW_AGENT),
        ("Twitterbot/1.0", UaClass.PREVIEW, BotReason.PREVIEW_AGENT),
        ("WhatsApp/2.23.20.0 A", UaClass.PREVIEW, BotReason.PREVIEW_AGENT),
        ("Mozilla/5.0 (compatible; WeChatBot/1.0)", UaClass.PREVIEW, BotReason.PREVIEW_AGENT),
        ("", UaClass.OTHER, BotReason.NO_AGENT),
    ],
)
def test_bots_and_previewers_are_stored_flagged(client, link, ua, ua_class, reason):
    response = click(client, link.code, ua=ua)
    assert response.status_code == 302, "a bot is redirected like anyone"
    (event,) = stored()
    assert (event.ua_class, event.bot_reason, event.is_bot) == (ua_class, reason, bool(reason))


def test_a_phone_model_named_like_a_bot_is_a_person():
    from exchange.visitors import classify_agent

    ua = "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36"
    assert classify_agent(ua) == (UaClass.MOBILE, "")


def test_a_head_request_is_answered_and_flagged(client, link):
    response = click(client, link.code, method="head")
    assert response.status_code == 302 and response["Location"].startswith(link.destination)
    (event,) = stored()
    assert (event.is_bot, event.bot_reason, event.ua_class) == (True, BotReason.HEAD_REQUEST, UaClass.BROWSER)


@pytest.mark.parametrize("path", ["stream", "direct"])
def test_a_burst_from_one_visitor_is_flagged_beyond_the_limit(client, link, settings, path):
    if path == "direct":  # counted in the cache instead of the stream's script
        settings.EXCHANGE_EVENTS_REDIS_URL = ""
    elif not streams.enabled():
        pytest.skip("needs REDIS_URL (make test)")
    settings.EXCHANGE_CLICK_BURST_PER_MINUTE = 3
    for _ in range(5):
        assert click(client, link.code).status_code == 302
    click(client, link.code, method="head")  # already flagged: keeps its own reason
    assert [e.bot_reason for e in stored()] == ["", "", "", "burst", "burst", "head_request"]


@needs_stream
def test_a_cached_link_is_answered_without_a_database_query(client, link, django_assert_num_queries):
    click(client, link.code)  # fills the cache
    with django_assert_num_queries(0):
        assert click(client, link.code).status_code == 302


def test_without_a_stream_the_click_goes_straight_to_the_database(client, link, settings):
    settings.EXCHANGE_EVENTS_REDIS_URL = ""
    response = click(client, link.code)
    assert response.status_code == 302
    (event,) = ClickEvent.objects.all()
    assert event.ingest == Ingest.DIRECT and event.click_id.hex in response["Location"]


def test_with_redis_down_the_redirect_answers_and_writes_the_click_to_the_database(client, link, settings):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EXCHANGE_EVENTS_REDIS_URL = f"redis://127.0.0.1:{port}/0"
    responses = [click(client, link.code) for _ in range(3)]
    assert [r.status_code for r in responses] == [302, 302, 302]
    events = list(ClickEvent.objects.all())
    assert len(events) == 3 and {e.ingest for e in events} == {Ingest.DIRECT}
    assert {e.click_id.hex for e in events} == {
        dict(parse_qsl(urlsplit(r["Location"]).query))["hl_click"] for r in responses
    }


def test_the_landing_change_reaches_the_redirect(
    client, link, toys_actor, coffee_actor, django_capture_on_commit_callbacks
):
    from exchange import services

    leg = link.leg
    actor = toys_actor if leg.promoted.slug == "tiny-toys" else coffee_actor
    click(client, link.code)  # cached with the old destination
    with django_capture_on_commit_callbacks(execute=True):
        services.leg_landing_set(actor=actor, leg=leg, url="https://landing.example/new")
    assert click(client, link.code)["Location"].startswith("https://landing.example/new?utm_source=huiliu&")
    assert tracking.link_entry(link.code).destination.startswith("https://landing.example/new?")
