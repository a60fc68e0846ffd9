"""The campaign assets page: coupons (generate, CSV), QR codes, reported rows and reversal —
for the two parties; platform admins read; anyone else gets a 404."""

from __future__ import annotations

import csv
import io

import pytest
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from exchange.models import Coupon, CouponBatch, ReportedEvent, ReportedState
from exchange.services import conversions_report, coupon_batch_generate
from tests.factories import BrandFactory, MembershipFactory, UserFactory
from tests.fixtures_reported import order, placement_of

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stranger():
    return MembershipFactory(brand=BrandFactory(slug="nosy"), role="owner", user=UserFactory()).user


def _urls(campaign, cp):
    kw = {"pk": campaign.pk, "placement": cp.pk}
    return {
        "page": reverse("frontend:campaign_assets", kwargs={"pk": campaign.pk}),
        "generate": reverse("frontend:campaign_coupons_generate", kwargs=kw),
        "csv": reverse("frontend:campaign_coupons_csv", kwargs=kw),
        "svg": reverse("frontend:campaign_qr", kwargs={**kw, "fmt": "svg"}),
        "png": reverse("frontend:campaign_qr", kwargs={**kw, "fmt": "png"}),
    }


def test_promoted_brand_generates_coupons_from_the_page_and_downloads_them(toys_leg, toys_owner):
    cp = placement_of(toys_leg)
    urls = _urls(toys_leg.campaign, cp)
    client = _as(toys_owner)
    page = client.get(urls["page"])
    assert page.status_code == 200 and urls["generate"] in page.content.decode()
    response = client.post(urls["generate"], {"size": "120"}, follow=True)
    assert CouponBatch.objects.get(placement=cp).size == 120
    assert "120" in response.content.decode()
    download = client.get(urls["csv"])
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert len(rows) == 121 and {r[0] for r in rows[1:]} == set(Coupon.objects.values_list("code", flat=True))


def test_bad_sizes_show_an_error_and_change_nothing(toys_leg, toys_owner):
    urls = _urls(toys_leg.campaign, placement_of(toys_leg))
    client = _as(toys_owner)
    for size in ("", "abc", "0", "99999", "-3", "１２"):
        response = client.post(urls["generate"], {"size": size}, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"]), size
    assert not Coupon.objects.exists()


def test_promoter_sees_the_form_only_for_its_own_promoted_leg(toys_leg, coffee_owner):
    cp = placement_of(toys_leg)
    urls = _urls(toys_leg.campaign, cp)
    client = _as(coffee_owner)
    assert urls["generate"] not in client.get(urls["page"]).content.decode()
    client.post(urls["generate"], {"size": "10"})
    assert not Coupon.objects.exists()


def test_qr_codes_encode_the_public_tracking_url(toys_leg, coffee_owner, admin_user, settings):
    settings.SITE_URL = "https://huiliu.example"
    cp = placement_of(toys_leg)
    urls = _urls(toys_leg.campaign, cp)
    for user in (coffee_owner, admin_user):
        svg = _as(user).get(urls["svg"])
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        assert b"<svg" in svg.content
        png = _as(user).get(urls["png"] + "?download=1")
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n" and "attachment" in png["Content-Disposition"]
    from frontend.views.campaign_assets import tracking_url

    assert tracking_url(cp.link.code) == f"https://huiliu.example/t/{cp.link.code}"


def test_outsiders_get_404_everywhere_and_admins_get_no_codes(toys_leg, toys_actor, stranger, admin_user, settings):
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=5)
    urls = _urls(toys_leg.campaign, cp)
    nosy = _as(stranger)
    for name in ("page", "csv", "svg", "png"):
        assert nosy.get(urls[name]).status_code == 404, name
    assert nosy.post(urls["generate"], {"size": "9"}).status_code == 404
    assert _as(admin_user).get(urls["page"]).status_code == 200
    assert _as(admin_user).get(urls["csv"]).status_code == 404
    anonymous = Client().get(urls["page"])
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert CouponBatch.objects.get().size == 5


def test_reporter_reverses_a_pending_row_from_the_table(toys_leg, toys, toys_actor, toys_owner, coffee_owner):
    code = placement_of(toys_leg).link.code
    event = (
        conversions_report(actor=toys_actor, brand=toys, rows=[order("WEB-1", tracking_code=code)]).accepted[0].event
    )
    url = reverse("frontend:campaign_event_reverse", kwargs={"pk": toys_leg.campaign_id, "event": event.pk})
    page = _as(coffee_owner).get(reverse("frontend:campaign_assets", kwargs={"pk": toys_leg.campaign_id}))
    assert "WEB-1" in page.content.decode() and url not in page.content.decode()  # the other party reads
    _as(coffee_owner).post(url, {"reason": "refund"})
    assert ReportedEvent.objects.get().state == ReportedState.PENDING
    mine = _as(toys_owner)
    assert url in mine.get(reverse("frontend:campaign_assets", kwargs={"pk": toys_leg.campaign_id})).content.decode()
    mine.post(url, {"reason": "nonsense"})
    assert ReportedEvent.objects.get().state == ReportedState.PENDING
    mine.post(url, {"reason": "refund"})
    assert ReportedEvent.objects.get().state == ReportedState.REVERSED


def test_page_queries_do_not_grow_with_rows(toys_leg, toys, toys_actor, toys_owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    code = placement_of(toys_leg).link.code
    client = _as(toys_owner)
    url = reverse("frontend:campaign_assets", kwargs={"pk": toys_leg.campaign_id})
    conversions_report(actor=toys_actor, brand=toys, rows=[order(f"q{i}", tracking_code=code) for i in range(2)])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    conversions_report(actor=toys_actor, brand=toys, rows=[order(f"r{i}", tracking_code=code) for i in range(40)])
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
