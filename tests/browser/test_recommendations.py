"""Recommended partners and the matcher page in headless Chromium.

An owner of an approved coffee brand opens Recommended partners from the top bar, reads the
cards and their reasons, dismisses one partner (gone after a reload, and in English too);
then an admin opens the matcher page, retrains (Celery is eager in tests, so the run has
finished when the page comes back) and watches a running run's progress being polled until
it finishes. Screenshots of each page go to test-output/<test name>/."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from matching import services
from matching.models import Dismissal, MatcherModel, TrainingMessage, TrainingRun, TrainingState
from partners.models import BrandStatus, Role
from tests.browser.conftest import PASSWORD, in_db
from tests.factories import AdminFactory, MembershipFactory, UserFactory, make_brand, swap_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUDIENCE = {
    "gender": {"female": 0.65, "male": 0.35},
    "age": {"18-24": 0.3, "25-34": 0.5, "35-44": 0.15, "45+": 0.05},
    "city_tier": {"tier1": 0.6, "new_tier1": 0.3, "tier2": 0.1},
    "regions": ["CN-SH", "CN-ZJ"],
}


@pytest.fixture
def marketplace(fresh_matching_state):
    """Tide Coffee (approved, owned by mei@) and non-competing partners with recommendations,
    plus a history of past swaps to train from."""

    def build():
        # An earlier transactional test's flush removes the taxonomy its data migration loaded.
        import_module("partners.migrations.0002_taxonomy").load_taxonomy(django_apps, None)
        me = make_brand("tide-coffee", "beverage.coffee", scale=120_000, tones=["young", "urban"], audience=AUDIENCE)
        me.name, me.name_en = "潮汐咖啡", "Tide Coffee"
        me.save()
        owner = UserFactory(username="mei@tide-coffee.cn", password=PASSWORD, display_name="林梅")
        MembershipFactory(brand=me, user=owner, role=Role.OWNER)
        # A second brand of hers, still waiting for review: no recommendations, an explanation.
        tea = make_brand("tide-tea", "beverage.tea_drinks", status=BrandStatus.PENDING)
        tea.name, tea.name_en = "潮汐茶饮", "Tide Tea"
        tea.save()
        MembershipFactory(brand=tea, user=owner, role=Role.OWNER)
        partners = [
            ("sunny-bakery", "food.bakery", "日光烘焙", "Sunny Bakery", 96_000, ["young", "urban", "quality"]),
            ("crunch-snacks", "food.snacks", "脆脆零食", "Crunch Snacks", 150_000, ["young", "fun"]),
            ("move-fitness", "fitness", "动起来健身", "Move Fitness", 80_000, ["urban", "healthy"]),
            ("paw-pets", "pets", "爪爪宠物", "Paw Pets", 60_000, ["warm"]),
            ("rival-coffee", "beverage.coffee", "对手咖啡", "Rival Coffee", 120_000, ["young", "urban"]),
        ]
        made = {}
        for slug, code, zh, en, scale, tones in partners:
            brand = make_brand(slug, code, scale=scale, tones=tones, audience=AUDIENCE)
            brand.name, brand.name_en = zh, en
            brand.save()
            made[slug] = brand

        # Past swaps: coffee × bakery completed, coffee × snacks declined (for training).
        # Small luxury brands: a poor fit for Tide Coffee, so they rank below the partners above.
        # six coffee brands with a success and a failure each: enough held-out brands for the gate
        swap_history(coffees=6, bakeries=4, snacks=2, new_members=(320, 280), scale=2_000, tier=5, tones=["luxury"])
        services.recommendations_refresh_brand(brand_id=me.pk)
        AdminFactory(username="ops@huiliu.cn", email="ops@huiliu.cn", password=PASSWORD)
        return me

    return in_db(build)


def sign_in(page, url, email, button="登录"):
    page.goto(url + "/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=button).last.click()
    page.wait_for_load_state()


def card_slugs(page) -> list[str]:
    return page.locator("article.rec-card").evaluate_all("els => els.map(e => e.dataset.partner)")


def test_owner_reads_and_dismisses_recommendations_then_admin_retrains(browser_page, live_server, marketplace):
    page, shots = browser_page, browser_page.shots
    url = live_server.url

    # --- The owner opens Recommended partners from the top bar (Chinese) ----------------------
    sign_in(page, url, "mei@tide-coffee.cn")
    page.get_by_role("link", name="推荐伙伴").first.click()
    page.wait_for_url(re.compile(r"/dashboard/partners/$"))  # two brands: choose one
    shots.take("pick-brand-zh")
    page.get_by_role("link", name=re.compile("潮汐咖啡")).click()
    page.wait_for_url(re.compile(r"/dashboard/brands/tide-coffee/partners/$"))
    slugs = card_slugs(page)
    assert set(slugs) >= {"sunny-bakery", "crunch-snacks", "move-fitness", "paw-pets"}
    assert "rival-coffee" not in slugs  # same category: a competitor, never recommended
    bakery = page.locator("article.rec-card[data-partner=sunny-bakery]")
    reasons = bakery.locator(".reasons li").all_inner_texts()
    assert 2 <= len(reasons) <= 4
    assert any(r.startswith("规模相当") for r in reasons)
    assert bakery.locator(".bar-row").count() >= 4
    swap = bakery.get_by_role("link", name="发起置换")  # opens the proposal composer
    assert swap.get_attribute("href") == "/dashboard/brands/tide-coffee/proposals/new/?partner=sunny-bakery"
    shots.take("recommendations-zh")
    bakery.screenshot(path=str(shots.folder / "card-zh.png"))  # one card at full size

    # --- Filters: the bakery category only -------------------------------------------------------
    page.select_option("select[name=category]", "food.bakery")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"category=food.bakery"))
    assert card_slugs(page)[0] == "sunny-bakery"
    assert all(s == "sunny-bakery" or s.startswith("bakery-") for s in card_slugs(page))
    shots.take("recommendations-filtered")
    page.get_by_role("link", name="清除").click()

    # --- Dismiss the snack brand: gone now, and after a reload --------------------------------------
    page.locator("article.rec-card[data-partner=crunch-snacks]").get_by_role("button", name="不感兴趣").click()
    page.wait_for_load_state()
    assert "不会再向潮汐咖啡推荐脆脆零食。" in page.locator(".flash-success").inner_text()
    assert "crunch-snacks" not in card_slugs(page)
    shots.take("dismissed-zh")
    page.reload()
    assert "crunch-snacks" not in card_slugs(page)
    assert "sunny-bakery" in card_slugs(page)
    assert in_db(lambda: Dismissal.objects.filter(brand=marketplace, partner__slug="crunch-snacks").count()) == 1
    shots.take("after-dismiss-zh")

    # --- The same page in English -----------------------------------------------------------------------
    page.get_by_role("button", name="EN").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Recommended partners"
    english = page.locator("article.rec-card[data-partner=sunny-bakery] .reasons").inner_text()
    assert "Comparable scale" in english and "规模" not in english
    assert "crunch-snacks" not in card_slugs(page)
    shots.take("recommendations-en")
    page.locator("article.rec-card").first.screenshot(path=str(shots.folder / "card-en.png"))
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: cards stack, nothing overflows
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots.folder / "phone-en.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    # The pending brand explains why it has no recommendations yet.
    page.goto(url + "/dashboard/brands/tide-tea/partners/")
    assert "waiting for review" in page.locator("#not-approved").inner_text()
    assert page.locator("article.rec-card").count() == 0
    shots.take("pending-brand-en")
    page.get_by_role("button", name="Sign out").click()

    # --- An admin retrains the matcher (English) -----------------------------------------------------------
    sign_in(page, url, "ops@huiliu.cn", button="Sign in")
    page.get_by_role("link", name="Matcher", exact=True).click()  # the queue, where admins land, links it too
    page.wait_for_url(re.compile(r"/review/matcher/$"))
    assert "No trained model yet." in page.locator("#active-model").inner_text()
    shots.take("matcher-cold-start-en")
    page.get_by_role("button", name="Retrain now").click()
    page.wait_for_url(re.compile(r"/review/matcher/\?run=\d+$"))
    panel = page.locator("#training-run")
    assert panel.get_attribute("data-finished") == "true"
    assert panel.locator("[data-run-state]").inner_text() == "Succeeded"
    assert re.search(r"Model v1 was trained on \d+ outcomes\.", panel.inner_text())
    assert "v1" in page.locator("#active-model").inner_text()
    assert page.locator("#training-runs tbody tr").count() == 1
    shots.take("matcher-finished-en")
    page.screenshot(path=str(shots.folder / "matcher-finished-en-top.png"))  # the viewport, full size
    assert in_db(lambda: MatcherModel.objects.filter(is_active=True).count()) == 1

    # --- A run a worker is still busy with: the page polls until it finishes (Chinese) ----------------------
    page.get_by_role("button", name="中文").click()
    page.wait_for_load_state()
    running = in_db(
        lambda: (
            TrainingRun.objects.create(
                state=TrainingState.RUNNING, progress=0.2, message_code=TrainingMessage.TRAINING
            ).pk
        )
    )
    page.goto(url + "/review/matcher/")
    panel = page.locator("#training-run")
    assert panel.get_attribute("data-finished") == "false"
    assert "正在用训练集训练" in panel.inner_text()
    assert page.get_by_role("button", name="立即重新训练").is_disabled()
    in_db(lambda: TrainingRun.objects.filter(pk=running).update(progress=0.7, message_code=TrainingMessage.REFITTING))
    # (a locator, not wait_for_function: evaluating a string is what the CSP forbids)
    expect(page.locator("[data-run-progress]")).to_have_text("70%")
    expect(panel.locator(".progress span")).to_have_class("fill-70")
    assert "正在用全部结果重新拟合" in panel.inner_text()
    shots.take("matcher-polling-zh")
    page.screenshot(path=str(shots.folder / "matcher-polling-zh-top.png"))
    with translation.override("zh-hans"):  # the page renders the stored code in the reader's language
        failure = _("Training needs at least %(min)d outcomes with both successes and failures (have %(n)d).") % {
            "min": 20,
            "n": 3,
        }
    in_db(
        lambda: TrainingRun.objects.filter(pk=running).update(
            state=TrainingState.FAILED,
            progress=0.7,
            message_code=TrainingMessage.NOT_ENOUGH_OUTCOMES,
            message_params={"min": 20, "n": 3},
            finished_at=timezone.now(),
        )
    )
    page.wait_for_url(re.compile(rf"/review/matcher/\?run={running}$"))
    panel = page.locator("#training-run")
    assert panel.get_attribute("data-finished") == "true"
    assert "训练失败，当前模型未改变。" in panel.inner_text()
    assert failure in panel.inner_text()
    assert page.get_by_role("button", name="立即重新训练").is_enabled()
    shots.take("matcher-failed-run-zh")
