"""The delivery page of a campaign: promised vs reported per placement, the promoter's report
form (with a proof upload), the promoted side's confirm / dispute forms, the access-checked
proof image, and the admins' list of disputed deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exchange import services
from exchange.models import DeliveryReport
from exchange.states import DeliveryState
from partners.models import Role
from tests.exchange.delivery_support import image_bytes, make_live_now, placement_of, upload
from tests.factories import BrandFactory, MembershipFactory, UserFactory
from tests.frontend.conftest import errors_in

pytestmark = pytest.mark.django_db
PROOF = "https://mp.weixin.qq.com/s/web"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def live(campaign):
    return make_live_now(campaign)


@pytest.fixture
def cp(live, coffee):
    return placement_of(live, coffee)


def logged_in(user) -> Client:
    c = Client(headers={"accept-language": "en"})  # messages compared in English; Chinese: the last test
    c.force_login(user)
    return c


@pytest.fixture
def coffee_web(coffee_owner):
    return logged_in(coffee_owner)


@pytest.fixture
def toys_web(toys_owner):
    return logged_in(toys_owner)


@pytest.fixture
def stranger_web(db):
    brand = BrandFactory(slug="stranger")
    return logged_in(MembershipFactory(brand=brand, role=Role.OWNER, user=UserFactory()).user)


def page_url(campaign) -> str:
    return reverse("frontend:campaign_delivery", args=[campaign.pk])


def report_form(cp, **overrides) -> dict:
    local = timezone.localtime(cp.starts_at + timedelta(hours=4))
    data = {
        f"p{cp.pk}-reach": "16000",
        f"p{cp.pk}-delivered_at": local.strftime("%Y-%m-%dT%H:%M"),
        f"p{cp.pk}-proof_url": "",
        f"p{cp.pk}-note": "推送截图见附件",
    }
    data.update({f"p{cp.pk}-{k}": v for k, v in overrides.items()})
    return data


def reported(cp, actor, **kw) -> DeliveryReport:
    args = {"reach": 15_000, "delivered_at": cp.starts_at + timedelta(hours=3), "proof_url": PROOF}
    args.update(kw)
    return services.delivery_report(actor=actor, placement=cp, **args)


def test_the_page_is_for_the_two_brands_and_admins(live, coffee_web, toys_web, stranger_web, admin_client_):
    url = page_url(live)
    for c in (coffee_web, toys_web):
        response = c.get(url)
        assert response.status_code == 200 and 'id="delivery"' in response.content.decode()
    admin_page = admin_client_.get(url).content.decode()
    assert "report-form" not in admin_page and "confirm-form" not in admin_page, "admins only read"
    assert stranger_web.get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_the_promoter_reports_with_a_screenshot_through_the_form(cp, live, coffee_web):
    page = coffee_web.get(page_url(live)).content.decode()
    assert f'action="{reverse("frontend:delivery_report", args=[live.pk, cp.pk])}"' in page
    data = report_form(cp)
    data[f"p{cp.pk}-proof_image"] = upload("shot.png")
    response = coffee_web.post(reverse("frontend:delivery_report", args=[live.pk, cp.pk]), data)
    assert response.status_code == 302 and response["Location"].endswith(f"#delivery-{cp.pk}")
    r = DeliveryReport.objects.get()
    assert (r.reach, r.state, r.note) == (16_000, DeliveryState.REPORTED, "推送截图见附件")
    assert r.delivered_at == (cp.starts_at + timedelta(hours=4)).replace(
        second=0, microsecond=0
    )  # the form's time is Beijing time
    page = coffee_web.get(page_url(live)).content.decode()
    assert "16,000" in page and 'class="proof-thumb"' in page
    assert reverse("frontend:delivery_proof", args=[live.pk, r.pk]) in page


def test_a_text_file_renamed_png_is_refused_on_the_page(cp, live, coffee_web):
    data = report_form(cp)
    data[f"p{cp.pk}-proof_image"] = upload("shot.png", b"this is not an image at all")
    response = coffee_web.post(reverse("frontend:delivery_report", args=[live.pk, cp.pk]), data)
    assert response.status_code == 200
    assert "PNG, JPEG or WebP" in errors_in(response)
    assert not DeliveryReport.objects.exists()


def test_an_oversize_screenshot_is_refused_on_the_page(cp, live, coffee_web, settings):
    settings.EXCHANGE_PROOF_MAX_BYTES = 2000
    data = report_form(cp)
    data[f"p{cp.pk}-proof_image"] = upload("big.png", image_bytes("PNG", size=(100, 100), noisy=True))
    response = coffee_web.post(reverse("frontend:delivery_report", args=[live.pk, cp.pk]), data)
    assert "larger than" in errors_in(response)
    assert not DeliveryReport.objects.exists()


def test_a_report_without_proof_or_with_a_bad_reach_shows_the_errors(cp, live, coffee_web):
    response = coffee_web.post(reverse("frontend:delivery_report", args=[live.pk, cp.pk]), report_form(cp, reach="-5"))
    assert "cannot be negative" in errors_in(response)
    response = coffee_web.post(reverse("frontend:delivery_report", args=[live.pk, cp.pk]), report_form(cp))
    assert "Add proof" in errors_in(response)
    assert not DeliveryReport.objects.exists()


def test_the_promoted_side_and_a_viewer_cannot_post_a_report(cp, live, toys_web, coffee):
    url = reverse("frontend:delivery_report", args=[live.pk, cp.pk])
    assert toys_web.post(url, report_form(cp, proof_url=PROOF)).status_code == 403
    viewer = logged_in(MembershipFactory(brand=coffee, role=Role.VIEWER, user=UserFactory()).user)
    assert "report-form" not in viewer.get(page_url(live)).content.decode()
    assert viewer.post(url, report_form(cp, proof_url=PROOF)).status_code == 403
    assert not DeliveryReport.objects.exists()


def test_the_promoted_side_confirms(cp, live, toys_web, coffee_web, coffee_actor):
    r = reported(cp, coffee_actor)
    page = toys_web.get(page_url(live)).content.decode()
    assert "confirm-form" in page and "dispute-form" in page
    assert "confirm-form" not in coffee_web.get(page_url(live)).content.decode()
    assert coffee_web.post(reverse("frontend:delivery_confirm", args=[live.pk, r.pk])).status_code == 403
    response = toys_web.post(reverse("frontend:delivery_confirm", args=[live.pk, r.pk]))
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.state == DeliveryState.CONFIRMED and r.confirmed_by is not None


def test_the_promoted_side_disputes_with_a_reason_and_both_sides_see_it(
    cp, live, toys_web, coffee_web, coffee_actor, admin_client_
):
    r = reported(cp, coffee_actor)
    url = reverse("frontend:delivery_dispute", args=[live.pk, r.pk])
    response = toys_web.post(url, {f"d{r.pk}-reason": "", f"d{r.pk}-note": ""})
    assert "Choose why you dispute" in errors_in(response)
    response = toys_web.post(url, {f"d{r.pk}-reason": "other", f"d{r.pk}-note": ""})
    assert "Say in a few words" in errors_in(response)
    r.refresh_from_db()
    assert r.state == DeliveryState.REPORTED
    response = toys_web.post(url, {f"d{r.pk}-reason": "wrong_audience", f"d{r.pk}-note": "推给了男性用户"})
    assert response.status_code == 302
    r.refresh_from_db()
    assert (r.state, r.dispute_reason) == (DeliveryState.DISPUTED, "wrong_audience")
    for c in (coffee_web, toys_web, admin_client_):
        page = c.get(page_url(live)).content.decode()
        assert "推给了男性用户" in page and 'data-state="disputed"' in page
    assert "Correct the report" in coffee_web.get(page_url(live)).content.decode()


def test_the_proof_image_is_served_only_to_the_parties_and_admins(
    cp, live, coffee_web, toys_web, stranger_web, admin_client_, coffee_actor
):
    r = reported(cp, coffee_actor, proof_url="", proof_image=upload("p.png", image_bytes("WEBP")))
    url = reverse("frontend:delivery_proof", args=[live.pk, r.pk])
    for c in (coffee_web, toys_web, admin_client_):
        response = c.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/webp"
        assert "sandbox" in response["Content-Security-Policy"] and "private" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == image_bytes("WEBP")
    assert stranger_web.get(url).status_code == 404
    assert Client().get(url).status_code == 302
    other = reported(placement_of(live, coffee_actor.user.memberships.get().brand, "group_broadcast"), coffee_actor)
    assert coffee_web.get(reverse("frontend:delivery_proof", args=[live.pk, other.pk])).status_code == 404, "no image"


def test_admins_list_disputed_deliveries(cp, live, coffee_actor, toys_actor, admin_client_, coffee_web):
    r = reported(cp, coffee_actor)
    services.delivery_dispute(actor=toys_actor, report=r, reason="late", note="晚了三天")
    url = reverse("frontend:deliveries_admin")
    page = admin_client_.get(url).content.decode()
    assert f'data-report="{r.pk}"' in page and "晚了三天" in page
    assert coffee_web.get(url).status_code == 403


def test_the_page_costs_the_same_queries_for_one_report_or_three(
    live, coffee, toys, coffee_actor, toys_actor, coffee_web
):
    reported(placement_of(live, coffee), coffee_actor)
    coffee_web.get(page_url(live))
    with CaptureQueriesContext(connection) as one:
        coffee_web.get(page_url(live))
    group = placement_of(live, coffee, "group_broadcast")
    reported(group, coffee_actor, delivered_at=group.starts_at + timedelta(hours=1))
    theirs = placement_of(live, toys)
    reported(theirs, toys_actor, delivered_at=theirs.starts_at + timedelta(hours=1))
    with CaptureQueriesContext(connection) as three:
        coffee_web.get(page_url(live))
    assert len(three) == len(one)


def test_the_page_and_its_errors_read_in_chinese_by_default(cp, live, coffee_owner):
    c = Client(headers={"accept-language": "zh-hans"})
    c.force_login(coffee_owner)
    page = c.get(page_url(live)).content.decode()
    assert "交付报告" in page and "承诺量" in page and "提交交付报告" in page
    response = c.post(reverse("frontend:delivery_report", args=[live.pk, cp.pk]), report_form(cp, reach="-1"))
    assert "实际触达不能为负数。" in errors_in(response)


def test_the_accepted_proposal_links_to_its_delivery_page(live, coffee_web):
    page = coffee_web.get(reverse("frontend:proposal", args=[live.proposal_id])).content.decode()
    assert f'href="{page_url(live)}"' in page
