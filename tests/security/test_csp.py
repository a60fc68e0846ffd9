"""Content-Security-Policy (django-csp): every page carries a strict policy — scripts and styles
from our own origin only, no 'unsafe-inline', no 'unsafe-eval' — beside the security headers
the pages already had; and no template holds what that policy would block (an inline
<script>, an on* event-handler attribute, a style attribute or <style> block, a javascript:
URL). The browser tests (tests/browser/conftest.py) fail on any CSP violation the console
reports, so htmx, the composer and the matcher page are proven to work under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import BrandFactory

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "frontend" / "templates"]

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = [p.strip().split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def assert_strict(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header
    # The headers the pages had before stay.
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.fixture
def pages(brand, owner, admin_user):
    pending = BrandFactory(slug="tide-coffee", status="pending")
    return {
        None: [
            reverse("frontend:home"),
            reverse("frontend:marketplace"),
            reverse("frontend:brand_public", args=[brand.slug]),
            reverse("frontend:login"),
            reverse("frontend:signup"),
            "/admin/login/",
            "/no-such-page/",
        ],
        owner: [
            reverse("frontend:dashboard"),
            reverse("frontend:brand_detail", args=[brand.slug]),
            reverse("frontend:brand_edit", args=[brand.slug]),
            reverse("frontend:brand_channels", args=[brand.slug]),
            reverse("frontend:api_keys", args=[brand.slug]),
            reverse("frontend:wizard_profile"),
            reverse("frontend:recommendations", args=[brand.slug]),
            reverse("frontend:inbox"),
        ],
        admin_user: [
            reverse("frontend:queue"),
            reverse("frontend:matcher"),
            reverse("frontend:rates"),
            reverse("frontend:proposals_admin"),
            "/admin/",
            "/admin/partners/brand/",
            f"/admin/partners/brand/{pending.pk}/change/",
        ],
    }


def test_every_kind_of_page_carries_the_strict_policy_and_the_other_headers(pages):
    for user, urls in pages.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 404), (url, response.status_code)
            assert_strict(response)


def test_the_429_page_and_graphql_carry_it_too(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "signup": "1/h"}
    client = Client()
    client.post(reverse("frontend:signup"), {"email": "a@example.com", "password": "x"})
    response = client.post(reverse("frontend:signup"), {"email": "b@example.com", "password": "x"})
    assert response.status_code == 429
    assert_strict(response)
    assert "Content-Security-Policy" in client.post("/graphql/", "{}", content_type="application/json")


def test_only_graphiql_in_debug_loosens_the_policy_for_its_cdn_bundle(settings, client):
    settings.GRAPHIQL_ENABLED = True
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"graphiql" in response.content.lower()
    policy = directives(response)
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "cdn.jsdelivr.net" not in client.get(reverse("frontend:home"))["Content-Security-Policy"]


# --- templates: nothing inline that the policy would block ---------------------------------------
INLINE = {
    "inline <script> (give it a src and put the code in a static file)": re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>", re.I
    ),
    "on* event-handler attribute (add a listener in a static script)": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "style attribute (use a CSS class)": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "<style> block (move it to a stylesheet)": re.compile(r"<style[\s>]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


def test_the_template_scan_finds_what_it_looks_for():
    for sample in (
        "<script>alert(1)</script>",
        '<a href="#" onclick="go()">',
        '<span style="width: 10%">',
        "<style>p{}</style>",
        '<a href="javascript:void(0)">',
    ):
        assert any(rx.search(sample) for rx in INLINE.values()), sample
    assert not any(rx.search('<script src="/static/a.js" defer></script>') for rx in INLINE.values())


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_inline_script_handlers_or_styles(path):
    text = path.read_text()
    found = [f"{what}: {m.group(0)[:80]!r}" for what, rx in INLINE.items() for m in rx.finditer(text)]
    assert not found, found


# --- favicon --------------------------------------------------------------------------------------
def test_the_pages_and_the_admin_link_a_favicon_that_is_served(admin_user):
    from django.contrib.staticfiles import finders

    client = Client()
    client.force_login(admin_user)
    for url in (reverse("frontend:home"), "/admin/"):
        html = client.get(url).content.decode()
        match = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
        assert match, url
        assert match.group(1).endswith("frontend/favicon.svg")
    path = finders.find("frontend/favicon.svg")
    assert path and Path(path).read_text().lstrip().startswith("<svg")
