"""Every page the app serves, opened in headless Chromium under the Content-Security-Policy:
public pages, sign-in and sign-up, the wizard, a member's brand pages, recommendations, the
proposal inbox, composer and page, the campaign list, the review queue, the matcher, the admin rate pages and the
Django admin. The browser_page fixture fails the test on any CSP violation the console reports;
here we also check that each page's script still runs (a blocked script fails silently)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exchange import services as exchange_services
from exchange.models import ChannelRate
from matching import services as matching_services
from partners.actors import Actor
from partners.models import BrandStatus, ChannelType, Role
from tests.browser.conftest import PASSWORD, in_db
from tests.browser.test_proposals import AUDIENCE, sign_in, sign_out
from tests.factories import AdminFactory, BrandFactory, ChannelFactory, MembershipFactory, UserFactory, make_brand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(fresh_matching_state):
    def build():
        coffee = make_brand("tide-coffee", "beverage.coffee", scale=60_000, audience=AUDIENCE)
        ChannelFactory(brand=coffee, type=ChannelType.WECHAT_GROUP, label="福利群", size=40_000, active_rate=0.5)
        bakery = make_brand("sunny-bakery", "food.bakery", scale=50_000, audience=AUDIENCE)
        make_brand("move-fitness", "fitness", scale=55_000, audience=AUDIENCE)
        BrandFactory(slug="pending-tea", status=BrandStatus.PENDING)
        mei = UserFactory(username="mei@tide-coffee.cn", password=PASSWORD)
        MembershipFactory(brand=coffee, user=mei, role=Role.OWNER)
        AdminFactory(username="admin@huiliu.cn", password=PASSWORD)
        matching_services.recommendations_refresh_brand(brand_id=coffee.pk)
        wecom = coffee.channels.get(type=ChannelType.WECOM)
        proposal = exchange_services.proposal_create(
            actor=Actor(user=mei),
            brand=coffee,
            counterparty=bakery,
            placements=[
                {
                    "channel_id": wecom.pk,
                    "format": "direct_message",
                    "quantity": 10_000,
                    "starts_on": timezone.localdate() + timedelta(days=2),
                    "ends_on": timezone.localdate() + timedelta(days=8),
                },
            ],
            message="一起做个会员互推？",
        )
        from exchange import webhooks
        from exchange.models import WebhookEndpoint

        hook = WebhookEndpoint.objects.create(
            brand=coffee,
            url="https://crm.tide-coffee.cn/hooks",
            event_types=["proposal.created"],
            secret_encrypted=webhooks.encrypt_secret(webhooks.new_secret()),
        )
        return {"proposal": proposal.pk, "rate": ChannelRate.objects.order_by("pk").first().pk, "webhook": hook.pk}

    return in_db(build)


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status in (200, 404), (url, response and response.status)
    page.wait_for_load_state("load")


def test_every_page_runs_under_the_content_security_policy(browser_page, live_server, site):
    page, url = browser_page, live_server.url

    # --- anyone ---------------------------------------------------------------------------------
    for path in ("/", "/brands/", "/brands/tide-coffee/", "/login/", "/signup/", "/admin/login/", "/no-such-page/"):
        visit(page, url + path)

    # --- a brand's owner --------------------------------------------------------------------------
    sign_in(page, url, "mei@tide-coffee.cn")
    for path in (
        "/dashboard/",
        "/dashboard/brands/tide-coffee/",
        "/dashboard/brands/tide-coffee/keys/",
        "/dashboard/brands/tide-coffee/webhooks/",
        f"/dashboard/brands/tide-coffee/webhooks/{site['webhook']}/",
        "/dashboard/partners/",
        "/dashboard/brands/tide-coffee/partners/",
        "/proposals/",
        f"/proposals/{site['proposal']}/",
        "/campaigns/",  # a dashboard is walked in test_campaign_dashboard.py (ECharts drawn)
        "/register/",
        "/register/profile/",
    ):
        visit(page, url + path)
    visit(page, url + "/dashboard/brands/tide-coffee/edit/")
    expect(page.locator("[data-sum-for]").first).to_have_text("Σ 100%")  # huiliu.js ran
    visit(page, url + "/dashboard/brands/tide-coffee/channels/")
    expect(page.locator("#add-channel-row")).to_be_visible()  # huiliu.js un-hid it
    visit(page, url + "/dashboard/brands/tide-coffee/proposals/new/?partner=move-fitness")
    assert page.evaluate("typeof window.htmx") == "object"
    expect(page.locator("[data-recalculate]")).to_be_hidden()  # composer.js ran
    page.locator("[data-add-row=mine]").click()  # composer.js adds a row from its <template>
    expect(page.locator("[data-rows=mine] > .placement-row")).to_have_count(2)
    sign_out(page)

    # --- a platform admin -------------------------------------------------------------------------
    sign_in(page, url, "admin@huiliu.cn")
    for path in (
        "/review/",
        "/review/?status=approved",
        "/review/matcher/",
        "/review/rates/",
        f"/review/rates/{site['rate']}/",
        "/review/proposals/",
        "/admin/",
        "/admin/partners/brand/",
        "/admin/partners/competitionrule/add/",
        "/admin/partners/membership/",
        "/admin/partners/apikey/",
        "/admin/partners/auditevent/",
        "/admin/partners/category/",
        "/admin/exchange/webhookendpoint/",
        f"/admin/exchange/webhookendpoint/{site['webhook']}/change/",
        "/admin/exchange/webhookdelivery/",
    ):
        visit(page, url + path)
    visit(page, url + "/admin/partners/brand/?status__exact=pending")
    assert page.evaluate("typeof window.django") == "object"  # the admin's scripts ran
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "approve_selected")
    page.locator("button[name=index]").click()  # the intermediate reason page
    page.wait_for_load_state("load")
    expect(page.locator("textarea[name=reason]")).to_be_visible()
    visit(page, url + "/admin/partners/brand/")
    page.locator("#result_list tbody th a").first.click()  # a brand's change form
    page.wait_for_load_state("load")
    expect(page.locator("#brand_form")).to_be_visible()
    assert page.csp_violations == []
