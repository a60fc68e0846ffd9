"""Two brands negotiate a swap in headless Chromium.

Tide Coffee's marketer opens Recommended partners, proposes a swap to Sunny Bakery from its
card and watches the live balance meter as she types (htmx posts the draft, the exchange
values it); Sunny Bakery's marketer finds it in the inbox, counters with a different reach
and a placement of their own; Tide Coffee accepts. Both inboxes and the proposal page show
the right state at each step. Screenshots in Chinese and English, and the composer on a
390 px phone (nothing may overflow sideways), go to test-output/<test name>/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from exchange.models import Proposal
from exchange.states import ProposalState
from matching import services as matching_services
from partners.models import ChannelType, Role
from tests.browser.conftest import PASSWORD, in_db
from tests.factories import AdminFactory, ChannelFactory, MembershipFactory, UserFactory, make_brand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUDIENCE = {
    "gender": {"female": 0.65, "male": 0.35},
    "age": {"18-24": 0.3, "25-34": 0.5, "35-44": 0.15, "45+": 0.05},
    "city_tier": {"tier1": 0.6, "new_tier1": 0.3, "tier2": 0.1},
    "regions": ["CN-SH", "CN-ZJ"],
}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def eager_celery():
    """The outbox is delivered by Celery: run its tasks inline in the live server, so the
    inbox notifications exist when the next page loads (a real worker is tested elsewhere)."""
    from huiliu.celery import app

    was = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was


@pytest.fixture
def market(fresh_matching_state, eager_celery):
    """Tide Coffee (mei@, marketer) with recommendations, and Sunny Bakery (li@, marketer)."""

    def build():
        coffee = make_brand("tide-coffee", "beverage.coffee", scale=60_000, audience=AUDIENCE)
        coffee.name, coffee.name_en = "潮汐咖啡", "Tide Coffee"
        coffee.save()
        ChannelFactory(brand=coffee, type=ChannelType.WECHAT_GROUP, label="福利群", size=40_000, active_rate=0.5)
        bakery = make_brand("sunny-bakery", "food.bakery", scale=50_000, audience=AUDIENCE)
        bakery.name, bakery.name_en = "日光烘焙", "Sunny Bakery"
        bakery.save()
        for slug, code, zh, en in (
            ("move-fitness", "fitness", "动起来健身", "Move Fitness"),
            ("paw-pets", "pets", "爪爪宠物", "Paw Pets"),
        ):
            other = make_brand(slug, code, scale=55_000, audience=AUDIENCE)
            other.name, other.name_en = zh, en
            other.save()
        mei = UserFactory(username="mei@tide-coffee.cn", password=PASSWORD, display_name="林梅")
        MembershipFactory(brand=coffee, user=mei, role=Role.MARKETER)
        li = UserFactory(username="li@sunny-bakery.cn", password=PASSWORD, display_name="李响")
        MembershipFactory(brand=bakery, user=li, role=Role.MARKETER)
        matching_services.recommendations_refresh_brand(brand_id=coffee.pk)
        return coffee, bakery

    return in_db(build)


def sign_in(page, url, email, button="登录"):
    page.goto(url + "/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=button).last.click()
    page.wait_for_load_state()


def sign_out(page):
    page.locator("form[action='/logout/'] button").click()
    page.wait_for_load_state()


def no_sideways_overflow(page) -> bool:
    ok = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if not ok:  # name the culprits in the failure output
        print(
            page.evaluate(
                """Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
            )
        )
    return ok


def proposal_state() -> str:
    return in_db(lambda: Proposal.objects.get().state)


def test_two_marketers_propose_counter_and_accept(browser_page, live_server, market):
    page, shots = browser_page, browser_page.shots
    url = live_server.url
    coffee_wecom = in_db(lambda: market[0].channels.get(type=ChannelType.WECOM).pk)
    coffee_group = in_db(lambda: market[0].channels.get(type=ChannelType.WECHAT_GROUP).pk)
    bakery_wecom = in_db(lambda: market[1].channels.get(type=ChannelType.WECOM).pk)

    # --- Tide Coffee proposes from the recommendation card (Chinese) ---------------------------------
    sign_in(page, url, "mei@tide-coffee.cn")
    page.get_by_role("link", name="推荐伙伴").first.click()
    page.wait_for_url(re.compile(r"/dashboard/brands/tide-coffee/partners/$"))
    card = page.locator("article.rec-card[data-partner=sunny-bakery]")
    card.get_by_role("link", name="发起置换").click()
    page.wait_for_url(re.compile(r"/dashboard/brands/tide-coffee/proposals/new/\?partner=sunny-bakery$"))
    assert page.evaluate("typeof window.htmx") == "object"  # served from node_modules/
    assert page.locator("[data-recalculate]").is_hidden()  # htmx recalculates live
    meter = page.locator("#meter")
    expect(meter.locator("[data-meter-left]")).to_have_text("¥0.00")

    # The live meter: each keystroke is valued by the server.
    page.select_option("select[name=mine-0-pick]", f"{coffee_wecom}:direct_message")
    page.fill("input[name=mine-0-quantity]", "80000")  # above the channel's 60,000 active audience
    expect(page.locator("#mine-0-hint .error")).to_contain_text("60,000")
    page.fill("input[name=mine-0-quantity]", "20000")
    expect(meter.locator("[data-meter-left]")).to_have_text("¥2,400.00")
    expect(page.locator("#mine-0-hint")).to_contain_text("¥2,400.00")
    expect(page.locator("#mine-0-hint")).to_contain_text("60,000")
    assert "100.0%" in meter.locator("[data-meter-gap]").inner_text()
    expect(meter.locator("[data-meter]")).to_have_attribute("data-lighter", "right")  # Sunny Bakery gives nothing yet
    page.select_option("select[name=ask-0-format]", "direct_message")
    page.fill("input[name=ask-0-quantity]", "20000")
    page.fill("textarea[name=message]", "一起做个会员互推？周二晚八点发。")
    # A second placement through "add a placement", then removed again.
    page.locator("[data-add-row=mine]").click()
    assert page.locator("[data-rows=mine] > .placement-row").count() == 2
    page.select_option("select[name=mine-1-pick]", f"{coffee_group}:group_broadcast")
    page.fill("input[name=mine-1-quantity]", "10000")
    expect(meter.locator("[data-meter-left]")).to_have_text("¥3,200.00")  # + 10,000 × ¥80 CPM
    page.locator("[data-rows=mine] > .placement-row").nth(1).locator("[data-remove-row]").click()
    expect(meter.locator("[data-meter-left]")).to_have_text("¥2,400.00")
    shots.take("composer-zh")

    # The same composer on a phone: rows stack, nothing overflows sideways.
    page.set_viewport_size(PHONE)
    assert no_sideways_overflow(page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the sticky meter in its place
    page.screenshot(path=str(shots.folder / "composer-phone-zh.png"), full_page=True)
    # While typing, the meter stays in view at the bottom of the screen.
    page.locator("input[name=mine-0-quantity]").scroll_into_view_if_needed()
    expect(page.locator("#meter [data-meter-left]")).to_be_in_viewport()
    page.screenshot(path=str(shots.folder / "composer-phone-typing-zh.png"))
    page.set_viewport_size(DESKTOP)

    page.locator("#composer-send").click()
    page.wait_for_url(re.compile(r"/proposals/\d+/$"))
    pk = in_db(lambda: Proposal.objects.get().pk)
    assert page.locator("#proposal-state").get_attribute("data-state") == "proposed"
    assert page.locator("#withdraw-form").count() == 1 and page.locator("#accept-form").count() == 0
    shots.take("proposed-initiator-zh")
    page.goto(url + "/proposals/?box=waiting")
    assert page.locator(f".proposal-row[data-proposal='{pk}']").count() == 1
    shots.take("inbox-initiator-waiting-zh")
    sign_out(page)

    # --- Sunny Bakery finds it in the inbox and counters with a different reach -----------------------
    sign_in(page, url, "li@sunny-bakery.cn")
    nav = page.locator("#nav-proposals")
    assert nav.locator("[data-action-count]").inner_text() == "1"
    assert nav.locator("[data-unread-count]").inner_text() == "1"
    nav.click()
    page.wait_for_url(re.compile(r"/proposals/$"))
    row = page.locator(f".proposal-row[data-proposal='{pk}']")
    expect(row).to_contain_text("潮汐咖啡")
    assert page.locator("#notifications .is-unread").count() == 1
    shots.take("inbox-counterparty-zh")
    row.click()
    page.wait_for_url(re.compile(rf"/proposals/{pk}/$"))
    assert page.locator("#accept-form").count() == 1
    shots.take("proposal-counterparty-zh")
    page.locator("#counter-link").click()
    page.wait_for_url(re.compile(rf"/proposals/{pk}/counter/$"))
    meter = page.locator("#meter")
    expect(meter.locator("[data-meter-right]")).to_have_text("¥2,400.00")  # theirs, carried over
    page.fill("input[name=their-0-quantity]", "15000")
    expect(meter.locator("[data-meter-right]")).to_have_text("¥1,800.00")
    # Sunny Bakery is the lighter side now: the meter suggests one of its own channels.
    expect(meter.locator("[data-suggest]").first).to_be_visible()
    meter.locator("[data-suggest]").first.click()
    expect(page.locator("select[name=mine-0-pick]")).to_have_value(re.compile(rf"^{bakery_wecom}:"))
    page.select_option("select[name=mine-0-pick]", f"{bakery_wecom}:direct_message")
    page.fill("input[name=mine-0-quantity]", "15000")
    expect(meter.locator("[data-meter-left]")).to_have_text("¥1,800.00")
    expect(meter.locator("[data-meter]")).to_have_attribute("data-lighter", "")  # even
    page.fill("textarea[name=message]", "我们这边 1.5 万，对等互推。")
    shots.take("counter-composer-zh")
    page.set_viewport_size(PHONE)
    assert no_sideways_overflow(page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.screenshot(path=str(shots.folder / "counter-composer-phone-zh.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.locator("#composer-send").click()
    page.wait_for_url(re.compile(rf"/proposals/{pk}/$"))
    assert page.locator("#proposal-state").get_attribute("data-state") == "countered"
    assert page.locator("#accept-form").count() == 0  # now it is Tide Coffee's turn
    assert proposal_state() == ProposalState.COUNTERED
    shots.take("countered-counterparty-zh")
    sign_out(page)

    # --- Tide Coffee accepts (Chinese, then reads it in English) -------------------------------------------
    sign_in(page, url, "mei@tide-coffee.cn")
    page.locator("#nav-proposals").click()
    row = page.locator(f".proposal-row[data-proposal='{pk}']")
    expect(row).to_have_attribute("data-state", "countered")
    row.click()
    page.wait_for_url(re.compile(rf"/proposals/{pk}/$"))
    history = page.locator("#history")
    changed = history.locator(".revision[data-revision='2'] [data-field=quantity].chg")
    expect(changed).to_contain_text("20,000")
    expect(changed).to_contain_text("15,000")
    assert history.locator(".revision[data-revision='2'] [data-status=added]").count() == 1
    shots.take("countered-initiator-zh")
    page.locator("#accept-form button").click()
    page.wait_for_url(re.compile(rf"/proposals/{pk}/$"))
    assert page.locator("#proposal-state").get_attribute("data-state") == "accepted"
    assert page.locator("#actions").count() == 0
    assert proposal_state() == ProposalState.ACCEPTED
    shots.take("accepted-initiator-zh")
    page.get_by_role("button", name="EN", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("#proposal-state")).to_have_text("Accepted")
    expect(page.locator("#proposal-status")).to_contain_text("revision 2 is the agreement")
    shots.take("accepted-initiator-en")
    page.set_viewport_size(PHONE)
    assert no_sideways_overflow(page)
    page.screenshot(path=str(shots.folder / "accepted-phone-en.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.goto(url + "/proposals/?box=closed")
    expect(page.locator(f".proposal-row[data-proposal='{pk}']")).to_contain_text("Accepted")
    shots.take("inbox-initiator-closed-en")
    sign_out(page)

    # --- Sunny Bakery sees the accepted swap (English) ---------------------------------------------------------
    sign_in(page, url, "li@sunny-bakery.cn", button="Sign in")
    page.locator("#nav-proposals").click()
    assert page.locator(".proposal-row").count() == 0  # nothing needs an answer any more
    page.locator(".tab[data-box=closed]").click()
    expect(page.locator(f".proposal-row[data-proposal='{pk}']")).to_contain_text("Accepted")
    notice = page.locator("#notifications .is-unread").first
    expect(notice).to_contain_text("Tide Coffee accepted the swap with Sunny Bakery")
    shots.take("inbox-counterparty-closed-en")
    page.set_viewport_size(PHONE)
    assert no_sideways_overflow(page)
    page.screenshot(path=str(shots.folder / "inbox-phone-en.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    notice.locator("a").click()
    page.wait_for_url(re.compile(rf"/proposals/{pk}/$"))
    expect(page.locator("#proposal-state")).to_have_text("Accepted")
    shots.take("accepted-counterparty-en")


def test_admin_reads_every_proposal_and_edits_a_rate(browser_page, live_server, market):
    page, shots = browser_page, browser_page.shots
    url = live_server.url

    def propose():
        from exchange import services
        from partners.actors import Actor

        coffee, bakery = market
        mei = coffee.memberships.get().user
        channel = coffee.channels.get(type=ChannelType.WECOM)
        from django.utils import timezone

        start = timezone.localdate()
        services.proposal_create(
            actor=Actor(user=mei),
            brand=coffee,
            counterparty=bakery,
            placements=[
                {
                    "channel_id": channel.pk,
                    "format": "direct_message",
                    "quantity": 20_000,
                    "starts_on": start,
                    "ends_on": start,
                }
            ],
            message="一起做个会员互推？",
        )
        AdminFactory(username="ops@huiliu.cn", email="ops@huiliu.cn", password=PASSWORD, display_name="王运营")

    in_db(propose)
    sign_in(page, url, "ops@huiliu.cn")
    page.get_by_role("button", name="EN", exact=True).click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Review queue").click()
    page.get_by_role("link", name="All proposals →").click()
    page.wait_for_url(re.compile(r"/review/proposals/$"))
    expect(page.locator("#admin-proposals tbody tr")).to_have_count(1)
    shots.take("admin-proposals-en")
    page.locator("#admin-proposals tbody tr a").first.click()
    expect(page.locator("#proposal-status")).to_contain_text("Read-only")
    assert page.locator("#actions").count() == 0 and page.locator("#message-form").count() == 0
    shots.take("admin-proposal-read-only-en")
    page.goto(url + "/review/rates/")
    row = page.locator("#rate-table tr[data-rate='wecom/direct_message']")
    expect(row).to_contain_text("¥120.00")
    shots.take("admin-rates-en")
    page.set_viewport_size(PHONE)
    assert no_sideways_overflow(page)
    page.screenshot(path=str(shots.folder / "admin-rates-phone-en.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    row.get_by_role("link", name="Edit").click()
    page.fill("input[name=rate]", "150.50")
    page.fill("input[name=source]", "2025 private-domain survey")
    page.get_by_role("button", name="Save rate").click()
    page.wait_for_url(re.compile(r"/review/rates/$"))
    expect(row).to_contain_text("¥150.50")
    expect(row).to_contain_text("王运营")
    shots.take("admin-rate-saved-en")
    row.get_by_role("link", name="Edit").click()
    expect(page.locator("#rate-history")).to_contain_text("¥120.00 → ¥150.50")
    shots.take("admin-rate-history-en")
