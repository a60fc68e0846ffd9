"""A campaign in Chromium: two brands' accepted proposal goes live, a click on its tracking link
lands on the promoted brand's landing page with the click id, the flush stores it, and both
parties' dashboards draw their charts (ECharts under the Content-Security-Policy); another
brand gets the 404 page.

A landing page a brand sets must be https (production refuses anything else), and Playwright's
``route`` does not see the hop a 302 leads to, so the leg here keeps no landing URL of its own:
its links then lead, as in the product, to the promoted brand's page on Huiliu — served on
loopback by the live server (``SITE_URL`` points there)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from exchange import services as exchange_services
from exchange.models import Campaign, ClickEvent, TrackingLink
from exchange.services.campaigns import campaigns_advance
from exchange.services.clicks import events_flush
from partners.actors import Actor
from partners.models import ChannelType, Role
from tests.browser.conftest import PASSWORD, in_db
from tests.browser.test_proposals import AUDIENCE, sign_in, sign_out
from tests.factories import ChannelFactory, MembershipFactory, UserFactory, make_brand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_campaign(live_server, settings):
    """Tide Coffee and Sunny Bakery swap WeCom messages; the campaign is made live by the beat
    service at its start; its links lead to Sunny Bakery's page on the live server."""
    settings.SITE_URL = live_server.url

    def build():
        coffee = make_brand("tide-coffee", "beverage.coffee", scale=60_000, audience=AUDIENCE)
        bakery = make_brand("sunny-bakery", "food.bakery", scale=50_000, audience=AUDIENCE)
        make_brand("move-fitness", "fitness", scale=55_000, audience=AUDIENCE)
        ChannelFactory(brand=coffee, type=ChannelType.WECHAT_GROUP, label="福利群", size=40_000, active_rate=0.5)
        mei = UserFactory(username="mei@tide-coffee.cn", password=PASSWORD)
        MembershipFactory(brand=coffee, user=mei, role=Role.OWNER)
        bo = UserFactory(username="bo@sunny-bakery.cn", password=PASSWORD)
        MembershipFactory(brand=bakery, user=bo, role=Role.OWNER)
        outsider = UserFactory(username="li@move-fitness.cn", password=PASSWORD)
        MembershipFactory(brand=coffee.__class__.objects.get(slug="move-fitness"), user=outsider, role=Role.OWNER)
        start = timezone.localdate()  # running today, so the dashboard has a day to draw
        spec = {
            "format": "direct_message",
            "quantity": 10_000,
            "starts_on": start,
            "ends_on": start + timedelta(days=6),
        }
        proposal = exchange_services.proposal_create(
            actor=Actor(user=mei),
            brand=coffee,
            counterparty=bakery,
            placements=[{**spec, "channel_id": coffee.channels.get(type=ChannelType.WECOM).pk}],
        )
        (theirs,) = proposal.revisions.get().placements.all()
        exchange_services.proposal_counter(
            actor=Actor(user=bo),
            proposal=proposal,
            revision=1,
            placements=[{**spec, "based_on_id": theirs.pk}, {**spec, "channel_id": bakery.channels.get().pk}],
        )
        exchange_services.proposal_accept(actor=Actor(user=mei), proposal=proposal, revision=2)
        campaign = Campaign.objects.get(proposal=proposal)
        assert campaigns_advance(now=campaign.starts_at + timedelta(hours=1)).live == 1
        leg = campaign.legs.get(promoted=bakery)
        link = TrackingLink.objects.get(leg=leg)
        return {"campaign": campaign.pk, "proposal": proposal.pk, "code": link.code, "leg": leg.pk}

    return in_db(build)


# A person opening the link in WeChat on a phone (headless Chromium's own user agent says
# "HeadlessChrome", which the redirect rightly files as a bot).
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)


def _click_through(page, url, site) -> str:
    """Open the tracking link as a person would; returns the click id the destination got."""
    context = page.context.browser.new_context(user_agent=PHONE_UA, locale="zh-CN")
    try:
        phone = context.new_page()
        phone.goto(f"{url}/t/{site['code']}")
        phone.wait_for_load_state("load")
        landed = urlsplit(phone.url)
        assert f"{landed.scheme}://{landed.netloc}{landed.path}" == f"{url}/brands/sunny-bakery/"
        expect(phone.locator("h1").first).to_be_visible()  # the brand page, served by the live server
        query = parse_qs(landed.query)
        assert query["utm_source"] == ["huiliu"] and query["utm_medium"] == ["wecom"]
        (click,) = query["hl_click"]
    finally:
        context.close()
    return click


def _flush() -> int:
    return in_db(lambda: events_flush().stored)


def test_a_click_lands_on_the_destination_is_stored_and_both_parties_see_the_dashboard(
    browser_page, live_server, live_campaign
):
    page, url, site = browser_page, live_server.url, live_campaign
    click = _click_through(page, url, site)
    _flush()
    stored = in_db(lambda: list(ClickEvent.objects.values_list("click_id", "leg_id", "is_bot")))
    assert [(c.hex, leg, bot) for c, leg, bot in stored] == [(click, site["leg"], False)]

    dashboard = f"{url}/campaigns/{site['campaign']}/"
    for email, title in (("mei@tide-coffee.cn", "你推广"), ("bo@sunny-bakery.cn", "推广你")):
        sign_in(page, url, email)
        page.goto(f"{url}/campaigns/")
        page.locator(f"[data-campaign='{site['campaign']}']").click()
        page.wait_for_load_state("load")
        assert page.url == dashboard
        expect(page.locator("#campaign-state")).to_have_attribute("data-state", "live")
        expect(page.locator(".leg-card h2").first).to_contain_text(title)
        # ECharts ran under the policy and drew every chart (the fixture fails on a violation).
        assert page.evaluate("typeof window.echarts") == "object"
        charts = page.locator("[data-chart-leg], [data-chart-bars]")
        expect(charts).to_have_count(4)  # each leg's series, then reach and value
        for chart in charts.all():
            expect(chart).to_have_attribute("data-chart-ready", "1")
            expect(chart.locator("canvas")).to_have_count(1)
        link = page.locator(f"input[value$='/t/{site['code']}']")
        expect(link).to_have_count(1)
        expect(page.locator(f"[data-copy='{link.get_attribute('id')}']")).to_be_visible()
        page.shots.take(f"dashboard-{email.split('@')[0]}")
        sign_out(page)

    sign_in(page, url, "li@move-fitness.cn")
    response = page.goto(dashboard)
    assert response is not None and response.status == 404
    sign_out(page)


def test_the_click_appears_on_the_dashboard_after_the_flush(browser_page, live_server, live_campaign):
    page, url, site = browser_page, live_server.url, live_campaign
    _click_through(page, url, site)
    _flush()
    sign_in(page, url, "mei@tide-coffee.cn")
    page.goto(f"{url}/campaigns/{site['campaign']}/")
    leg = page.locator(f"[data-leg='{site['leg']}']")
    expect(leg.locator("[data-figure=clicks]")).to_have_text("1", timeout=3_000)
