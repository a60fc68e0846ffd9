"""The dispute journey in Chromium, under the Content-Security-Policy: on a completed campaign
the lighter brand opens a dispute on the other's confirmed delivery with a screenshot (its
thumbnail loads through the access-checked evidence view), the other brand answers, and a
platform admin resolves it with an adjustment that moves the settlement."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, in_db
from tests.browser.test_proposals import sign_in, sign_out
from tests.exchange.delivery_support import image_bytes, placement_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey(completed, coffee, coffee_owner, toys_owner, admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def build():
        from exchange.models import DeliveryReport

        for user in (coffee_owner, toys_owner, admin_user):
            user.set_password(PASSWORD)
            user.save()
        campaign = completed(coffee_share=1.0, toys_share=0.5)
        return campaign, DeliveryReport.objects.get(placement=placement_of(campaign, coffee))

    return in_db(build)


def test_open_with_a_screenshot_answer_and_resolve_with_an_adjustment(journey, browser_page, live_server):
    from exchange.models import Dispute, Settlement

    page = browser_page
    campaign, report = journey
    gap_before = in_db(lambda: Settlement.objects.get(campaign=campaign).gap_value_cents)

    # Tiny Toys opens it from the delivery panel.
    sign_in(page, live_server.url, "bo@toys.example")
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/delivery/")
    page.locator(f"a.dispute-open-link[href$='?report={report.pk}']").click()
    page.wait_for_load_state()
    form = page.locator("#dispute-open-form")
    form.locator("select[name=reason]").select_option("reach_overstated")
    form.locator("textarea[name=statement]").fill("后台只看到 1 万触达，截图为证。")
    form.locator("input[name=files]").set_input_files(
        files=[{"name": "stats.png", "mimeType": "image/png", "buffer": image_bytes("PNG", size=(160, 90))}]
    )
    form.locator("textarea[name=links]").fill("https://example.com/stats")
    page.shots.take("open-filled")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#dispute-state")).to_contain_text("等待")
    thumb = page.locator("img.evidence-thumb").first
    expect(thumb).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", thumb.element_handle()) == 160
    page.shots.take("opened-zh")
    dispute_url = page.url
    sign_out(page)

    # Bean House answers.
    sign_in(page, live_server.url, "amy@bean.example")
    page.goto(dispute_url)
    answer = page.locator("#dispute-answer form")
    answer.locator("textarea[name=answer]").fill("我们的后台显示两万触达。")
    answer.locator("textarea[name=links]").fill("https://example.com/ours")
    answer.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#dispute-sides")).to_contain_text("我们的后台显示两万触达。")
    page.shots.take("answered-zh")
    sign_out(page)

    # The admin decides from the queue.
    sign_in(page, live_server.url, "admin@example.com")
    page.goto(f"{live_server.url}/review/disputes/")
    page.locator("#admin-dispute-queue a").first.click()
    page.wait_for_load_state()
    resolve = page.locator("#dispute-resolve-form")
    resolve.locator(f"input[name=reach_{report.pk}]").fill(str(report.reach // 2))
    resolve.locator("input[name=outcome][value=upheld]").check()
    resolve.locator("textarea[name=decision]").fill("以双方后台数据的较低值为准。")
    page.shots.take("resolve-zh")
    resolve.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#admin-dispute-queue")).to_have_count(0)
    # The same page in English.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(dispute_url)
    expect(page.locator("#dispute-decision")).to_contain_text("以双方后台数据的较低值为准。")
    page.shots.take("resolved-en")

    d = in_db(lambda: Dispute.objects.get())
    assert (d.state, d.outcome) == ("resolved", "upheld")
    assert in_db(lambda: Settlement.objects.get(campaign=campaign).gap_value_cents) < gap_before
