"""Layout at the sizes people use (issue 7): on a 390 px phone no page scrolls sideways and
no text is squeezed to one character per line (tables become cards or scroll inside their
box); at 1366 px the API-key table keeps its revoke button on one line and the admin top bar
keeps "中文" whole. Phone screenshots of each page go to test-output/<test name>/."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps as django_apps

from matching import services as matching
from partners import services
from partners.actors import Actor
from partners.models import BrandStatus, ChannelType, Role
from tests.browser.conftest import PASSWORD, in_db
from tests.browser.test_recommendations import AUDIENCE, sign_in
from tests.factories import AdminFactory, ChannelFactory, MembershipFactory, UserFactory, make_brand, valid_credit_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}

# Text squeezed to one or two characters per line: the symptom of a table column or a flex
# item crushed on a phone. Counts the line boxes of each element's text.
SQUEEZED = """() => {
  const out = [];
  const els = document.querySelectorAll(
    'main td, main th, main .btn, main h1, main h2, main h3, main dt, main dd, main p, main li, main label, ' +
    'main .badge, main .tag, header nav a, header button');
  for (const el of els) {
    if (el.offsetParent === null || el.closest('.sr-only') || el.querySelector('input, select, textarea, img')) continue;
    const text = (el.innerText || '').replace(/\\s+/g, '');
    if (text.length < 3) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (tops.size >= 3 && text.length / tops.size < 2.5) out.push(el.tagName + ': ' + text.slice(0, 30) + ' (' + tops.size + ' lines)');
  }
  return out;
}"""


@pytest.fixture
def scene(fresh_matching_state):
    """An owner's approved brand with channels, API keys, recommendations and a dismissed
    partner; a brand in review after a credit-code change; a platform admin."""

    def build():
        import_module("partners.migrations.0002_taxonomy").load_taxonomy(django_apps, None)
        me = make_brand("tide-coffee", "beverage.coffee", scale=2_810_000, audience=AUDIENCE)
        me.name, me.name_en = "潮汐咖啡（上海）精品咖啡连锁", "Tide Coffee Specialty Roasters Shanghai"
        me.legal_name, me.store_count = "上海潮汐餐饮管理有限公司第一分公司", 10_000
        me.save()
        ChannelFactory(
            brand=me, type=ChannelType.MINIPROGRAM, label="小程序会员（全国门店统一会员体系）", size=20_000_000
        )
        owner = UserFactory(username="mei@tide-coffee.cn", password=PASSWORD, display_name="林梅")
        MembershipFactory(brand=me, user=owner, role=Role.OWNER)
        actor = Actor(user=owner)
        services.api_key_create(actor=actor, brand=me, name="CRM 会员系统（生产环境）", scopes=["read", "write"])
        services.api_key_create(actor=actor, brand=me, name="小程序后台", scopes=["read"])
        for slug, code, zh in (
            ("sunny-bakery", "food.bakery", "日光烘焙工坊"),
            ("crunch-snacks", "food.snacks", "脆脆零食铺子"),
            ("move-fitness", "fitness", "动起来健身"),
        ):
            partner = make_brand(slug, code, scale=2_500_000, audience=AUDIENCE)
            partner.name = zh
            partner.save()
        matching.recommendations_refresh_brand(brand_id=me.pk)
        from partners.models import Brand

        matching.recommendation_dismiss(actor=actor, brand=me, partner=Brand.objects.get(slug="move-fitness"))
        # A brand in review after its owner changed the credit code: the queue shows old → new.
        moon = make_brand("moon-bakery", "food.bakery", scale=80_000)
        moon.name, moon.legal_name = "月光面包房", "杭州月光食品有限公司"
        moon.save()
        moon_owner = UserFactory(username="li@moon.cn", password=PASSWORD)
        MembershipFactory(brand=moon, user=moon_owner, role=Role.OWNER)
        services.brand_update(actor=Actor(user=moon_owner), brand=moon, data={"credit_code": valid_credit_code(4711)})
        make_brand("rain-tea", "beverage.tea_drinks", status=BrandStatus.PENDING)
        admin = AdminFactory(
            username="ops@huiliu.cn", email="ops@huiliu.cn", password=PASSWORD, display_name="平台审核"
        )
        # The widest top bar: an admin who also markets a brand has every destination.
        MembershipFactory(brand=Brand.objects.get(slug="sunny-bakery"), user=admin, role=Role.MARKETER)
        return me

    return in_db(build)


def check_phone_page(page, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state()
    page.screenshot(path=str(page.shots.folder / f"phone-{name}.png"), full_page=True)
    page.screenshot(path=str(page.shots.folder / f"phone-{name}-top.png"))  # what the phone shows first
    overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"{name} scrolls sideways: {overflow}"
    assert page.evaluate(SQUEEZED) == [], name


def test_phone_pages_fit_the_screen(browser_page, live_server, scene):
    page = browser_page
    url = live_server.url
    page.set_viewport_size(PHONE)
    sign_in(page, url, "mei@tide-coffee.cn")
    for path, name in (
        ("/dashboard/", "dashboard"),
        ("/dashboard/brands/tide-coffee/", "brand-detail"),
        ("/dashboard/brands/tide-coffee/keys/", "api-keys"),
        ("/dashboard/brands/tide-coffee/partners/", "recommendations"),
        ("/dashboard/brands/tide-coffee/channels/", "channels"),
        ("/dashboard/brands/tide-coffee/edit/", "edit"),
    ):
        check_phone_page(page, url + path, name)
    page.context.clear_cookies()
    sign_in(page, url, "ops@huiliu.cn")
    for path, name in (
        ("/review/", "review-queue"),
        ("/dashboard/brands/moon-bakery/", "brand-detail-admin"),
        ("/review/matcher/", "matcher"),
    ):
        check_phone_page(page, url + path, name)


def test_laptop_keeps_buttons_and_the_language_switch_on_one_line(browser_page, live_server, scene):
    page = browser_page
    url = live_server.url
    page.set_viewport_size(LAPTOP)
    sign_in(page, url, "mei@tide-coffee.cn")
    page.goto(url + "/dashboard/brands/tide-coffee/keys/")
    page.shots.take("laptop-api-keys")
    for button in page.locator("table .btn").all():
        box = button.bounding_box()
        assert box["height"] < 40, f"the revoke button wraps: {box}"
    page.context.clear_cookies()
    sign_in(page, url, "ops@huiliu.cn")
    page.goto(url + "/review/")
    for language in ("zh", "en"):
        if language == "en":
            page.get_by_role("button", name="EN").click()
            page.wait_for_load_state()
        page.shots.take(f"laptop-review-queue-{language}")
        assert (
            page.locator(".mainnav a").count() == 9
        )  # member and admin destinations (campaigns and settlements; admin tabs behind one entry)
        for lang in page.locator(".langswitch .lang").all():
            box = lang.bounding_box()
            assert box["height"] < 32 and box["width"] > 24, f"the language switch breaks: {box}"
        # Every destination is visible and none runs under the language switch and the user menu.
        tools = page.locator(".topbar-tools").bounding_box()
        for link in page.locator(".mainnav a").all():
            box = link.bounding_box()
            assert box["height"] < 44, f"a nav item wraps: {box}"
            assert box["x"] + box["width"] <= tools["x"] or box["y"] >= tools["y"] + tools["height"], box
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate(SQUEEZED) == []
