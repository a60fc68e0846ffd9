"""The redirect's WSGI door (huiliu/wsgi.py → exchange.views.track_redirect_wsgi): the same 302,
cookie, security headers and event as the Django view, without the site's middleware — and
everything it does not handle plainly left to Django (404 page, 405, bad host, https
redirect) before any click is recorded."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from exchange.models import CampaignPlacement, ClickEvent, Ingest, TrackingLink, VisitorKind
from exchange.services import clicks, tracking
from exchange.views import track_redirect_wsgi
from exchange.visitors import VISITOR_COOKIE
from huiliu.wsgi import application

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the request signals must not close the connection that
    holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def link(campaign):
    link = TrackingLink.objects.first()
    now = timezone.now()
    CampaignPlacement.objects.filter(pk=link.placement_id).update(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    tracking.link_memo_clear()
    return link


def call(path: str, *, method: str = "GET", host: str = "testserver", **environ) -> tuple[int, dict, list, bytes]:
    """One request through the WSGI application; (status, headers, Set-Cookie values, body)."""
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": CHROME,
        "REMOTE_ADDR": "203.0.113.9",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **environ,
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), headers

    chunks = application(env, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    headers = answer["headers"]
    cookies = [v for k, v in headers if k == "Set-Cookie"]
    return answer["status"], {k: v for k, v in headers if k != "Set-Cookie"}, cookies, body


def stored() -> list[ClickEvent]:
    clicks.events_flush()
    return list(ClickEvent.objects.all())


def test_a_click_gets_the_302_the_cookie_and_the_security_headers_and_is_recorded_once(link, client):
    status, headers, cookies, body = call(f"/t/{link.code}")
    assert status == 302 and body == b""
    location = headers["Location"]
    assert location.startswith(link.destination) and len(dict(parse_qsl(urlsplit(location).query))["hl_click"]) == 32
    assert headers["Cache-Control"] == "no-store" and headers["Content-Length"] == "0"
    assert headers["X-Content-Type-Options"] == "nosniff" and "Referrer-Policy" in headers
    (cookie,) = cookies
    assert cookie.startswith(f"{VISITOR_COOKIE}=") and "HttpOnly" in cookie and "Path=/t/" in cookie
    assert "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    (event,) = stored()
    assert event.click_id.hex == dict(parse_qsl(urlsplit(location).query))["hl_click"]
    assert event.visitor_kind == VisitorKind.HASH and event.ingest in (Ingest.STREAM, Ingest.DIRECT)

    view = client.get(f"/t/{link.code}", HTTP_USER_AGENT=CHROME)  # the Django view: the same answer
    assert view.status_code == 302 and view["Cache-Control"] == "no-store"
    assert {"Location", "Cache-Control", "X-Content-Type-Options", "Referrer-Policy"} <= set(headers) & set(
        view.headers
    )
    assert set(view.cookies) == {VISITOR_COOKIE}


def test_a_returning_visitor_keeps_their_id_and_gets_no_new_cookie(link):
    status, _headers, cookies, _ = call(f"/t/{link.code}", HTTP_COOKIE=f"{VISITOR_COOKIE}={'a' * 32}; other=1")
    assert status == 302 and cookies == []
    (event,) = stored()
    assert (event.visitor_id, event.visitor_kind) == ("a" * 32, VisitorKind.COOKIE)


def test_https_gets_hsts_and_plain_http_does_not(link, settings):
    assert settings.SECURE_HSTS_SECONDS, "production's default"
    status, headers, _cookies, _ = call(f"/t/{link.code}", **{"wsgi.url_scheme": "https"})
    assert status == 302 and headers["Strict-Transport-Security"].startswith("max-age=")
    status, headers, _cookies, _ = call(f"/t/{link.code}")
    assert status == 302 and "Strict-Transport-Security" not in headers


@pytest.mark.parametrize(
    ("path", "method", "host", "expected"),
    [
        ("/t/UnknownCode1", "GET", "testserver", 404),  # unknown code: the product's 404 page
        ("/t/short", "GET", "testserver", 404),  # not a code
        ("/t/{code}", "POST", "testserver", 403),  # CSRF refuses it before the view's 405
        ("/t/{code}", "GET", "evil.example", 400),  # not an allowed host
    ],
)
def test_what_the_fast_path_declines_django_answers_and_nothing_is_recorded(link, path, method, host, expected):
    status, _headers, cookies, _ = call(path.format(code=link.code), method=method, host=host)
    assert status == expected and not any(c.startswith(VISITOR_COOKIE) for c in cookies)
    assert stored() == []


def test_plain_http_is_left_to_djangos_https_redirect_when_the_site_requires_it(link, settings):
    settings.SECURE_SSL_REDIRECT = True
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/t/{link.code}", "HTTP_HOST": "testserver"}
    assert track_redirect_wsgi({**env, "wsgi.url_scheme": "http"}, None) is None
    assert stored() == []
    started = []
    answer = track_redirect_wsgi({**env, "wsgi.url_scheme": "https"}, lambda s, h: started.append(s))
    assert answer == [b""] and started == ["302 Found"] and len(stored()) == 1
