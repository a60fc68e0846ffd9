"""The onboarding journey in headless Chromium: a marketer signs up and registers a brand
through every wizard step, an admin approves it from the review queue, and the owner sees
it approved. Screenshots of each page go to test-output/<test name>/."""

from __future__ import annotations

import re

import pytest

from partners.models import AuditAction, AuditEvent, Brand, BrandStatus
from tests.browser.conftest import PASSWORD, in_db
from tests.factories import AdminFactory, valid_credit_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_register_brand_and_admin_approves_it(browser_page, live_server):
    page, shots = browser_page, browser_page.shots
    url = live_server.url

    # --- A marketer signs up (Chinese by default) -----------------------------------------
    page.goto(url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    shots.take("home-zh")
    page.get_by_role("link", name="注册", exact=True).first.click()
    page.fill("input[name=email]", "mei@tide-coffee.cn")
    page.fill("input[name=display_name]", "林梅")
    page.fill("input[name=password]", "123")
    page.get_by_role("button", name="注册").click()
    # The password rules are enforced and shown next to the field.
    assert page.locator(".field.has-error .error").count() >= 1
    shots.take("signup-error")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    shots.take("dashboard-empty")

    # --- Wizard step 1: profile ----------------------------------------------------------------
    page.get_by_role("link", name="注册品牌").first.click()
    page.wait_for_url(re.compile(r"/register/profile/$"))
    page.fill("input[name=name]", "潮汐咖啡")
    page.fill("input[name=name_en]", "Tide Coffee")
    page.fill("input[name=slug]", "tide-coffee")
    page.select_option("select[name=category]", "beverage.coffee")
    page.fill("input[name=legal_name]", "上海潮汐餐饮管理有限公司")
    page.fill("input[name=credit_code]", "91310000BADCODE")  # wrong first: the error is shown
    page.select_option("select[name=price_tier]", "3")
    page.fill("input[name=stores]", "42")
    page.fill("input[name=tone]", "年轻, 都市, 国潮")
    page.fill("textarea[name=description]", "精品咖啡连锁，主打上海和杭州的年轻白领。")
    page.get_by_role("button", name=re.compile("下一步")).click()
    assert "统一社会信用代码" in page.locator(".field.has-error").first.inner_text()
    shots.take("wizard-profile-error")
    page.fill("input[name=credit_code]", valid_credit_code(777))
    page.get_by_role("button", name=re.compile("下一步")).click()
    page.wait_for_url(re.compile(r"/register/audience/$"))

    # --- Step 2: audience (percentages) -------------------------------------------------------------
    for name, value in {
        "gender_0": "62",
        "gender_1": "38",
        "age_1": "30",
        "age_2": "45",
        "age_3": "25",
        "city_tier_0": "50",
        "city_tier_1": "30",
        "city_tier_2": "20",
    }.items():
        page.fill(f"input[name={name}]", value)
    for region in ("CN-SH", "CN-ZJ", "CN-JS"):
        page.check(f"input[name=regions][value={region}]")
    shots.take("wizard-audience")
    page.get_by_role("button", name=re.compile("下一步")).click()
    page.wait_for_url(re.compile(r"/register/channels/$"))

    # --- Step 3: channels (one row added in the browser) --------------------------------------------
    rows = page.locator("#channel-table tbody tr")
    rows.nth(0).locator("select").select_option("wecom")
    rows.nth(0).locator("input[name=channel_label]").fill("门店企微")
    rows.nth(0).locator("input[name=channel_size]").fill("120000")
    rows.nth(0).locator("input[name=channel_active_rate]").fill("35")
    page.click("#add-channel-row")
    last = page.locator("#channel-table tbody tr").last
    last.locator("select").select_option("miniprogram")
    last.locator("input[name=channel_size]").fill("80000")
    last.locator("input[name=channel_active_rate]").fill("20")
    shots.take("wizard-channels")
    page.get_by_role("button", name=re.compile("下一步")).click()
    page.wait_for_url(re.compile(r"/register/review/$"))
    assert in_db(lambda: Brand.objects.filter(slug="tide-coffee").count()) == 0  # nothing written before submit
    shots.take("wizard-review")

    # --- Step 4: submit --------------------------------------------------------------------------------
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_url(re.compile(r"/dashboard/brands/tide-coffee/$"))
    assert page.locator("#brand-status").inner_text().strip() == "待审核"
    brand = in_db(lambda: Brand.objects.get(slug="tide-coffee"))
    assert brand.status == BrandStatus.PENDING
    assert brand.active_audience == 120000 * 35 // 100 + 80000 * 20 // 100
    shots.take("brand-pending")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(url + "/")

    # --- An admin approves it from the queue, in English -----------------------------------------------
    in_db(lambda: AdminFactory(username="ops@huiliu.cn", email="ops@huiliu.cn", password=PASSWORD))
    page.goto(url + "/login/")
    page.get_by_role("button", name="EN").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.fill("input[name=email]", "ops@huiliu.cn")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    page.get_by_role("link", name="Review queue").click()
    row = page.locator("article.queue-row[data-brand=tide-coffee]")
    assert row.count() == 1
    shots.take("queue-en")
    # Rejecting without a reason is refused and changes nothing.
    row.locator("form.action-reject textarea").evaluate("el => el.removeAttribute('required')")
    row.locator("form.action-reject button").click()
    assert "A reason is required." in page.locator(".flash-error").inner_text()
    assert in_db(lambda: Brand.objects.get(slug="tide-coffee").status) == BrandStatus.PENDING
    shots.take("queue-reason-required")
    row = page.locator("article.queue-row[data-brand=tide-coffee]")
    row.locator("form.action-approve textarea").fill("Licence checked")
    row.locator("form.action-approve button").click()
    assert "now Approved" in page.locator(".flash-success").inner_text()
    shots.take("queue-approved")
    assert (
        in_db(lambda: AuditEvent.objects.filter(brand__slug="tide-coffee", action=AuditAction.BRAND_APPROVED).count())
        == 1
    )
    page.get_by_role("button", name="Sign out").click()

    # --- The owner sees the approval, back in Chinese ------------------------------------------------------
    page.goto(url + "/login/")
    page.get_by_role("button", name="中文").click()
    page.fill("input[name=email]", "mei@tide-coffee.cn")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="登录").last.click()
    page.get_by_role("link", name=re.compile("潮汐咖啡")).click()
    assert page.locator("#brand-status").inner_text().strip() == "已通过"
    assert "已通过" in page.locator(".timeline").inner_text()
    shots.take("brand-approved-zh")
    page.goto(url + "/brands/tide-coffee/")
    assert "91310000" not in page.content()  # the public profile shows no credit code
    shots.take("public-profile")
