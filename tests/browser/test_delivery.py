"""The delivery journey in Chromium, under the Content-Security-Policy: the promoting brand
reports a placement with a screenshot (its thumbnail then loads through the access-checked
proof view), the promoted brand disputes it with a reason, and both see the dispute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, in_db
from tests.browser.test_proposals import sign_in, sign_out
from tests.exchange.delivery_support import image_bytes, make_live_now, placement_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey(campaign, coffee, coffee_owner, toys_owner, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def build():
        for user in (coffee_owner, toys_owner):
            user.set_password(PASSWORD)
            user.save()
        live = make_live_now(campaign)
        return live, placement_of(live, coffee)

    return in_db(build)


def test_report_with_a_screenshot_then_dispute(journey, browser_page, live_server):
    page = browser_page
    campaign, cp = journey
    url = f"{live_server.url}/campaigns/{campaign.pk}/delivery/"
    sign_in(page, live_server.url, "amy@bean.example")
    page.goto(url)
    form = page.locator(f"form[action$='/delivery/{cp.pk}/report/']")
    form.locator(f"#id_p{cp.pk}-reach").fill("18000")
    when = timezone.localtime(cp.starts_at + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    form.locator(f"#id_p{cp.pk}-delivered_at").fill(when)
    form.locator(f"#id_p{cp.pk}-proof_image").set_input_files(
        files=[{"name": "shot.png", "mimeType": "image/png", "buffer": image_bytes("PNG", size=(120, 80))}]
    )
    page.shots.take("report-filled")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    row = page.locator(f"#delivery-{cp.pk}")
    expect(row).to_have_attribute("data-state", "reported")
    thumb = row.locator("img.proof-thumb")
    expect(thumb).to_be_visible()
    loaded = "(img) => img.complete && img.naturalWidth > 0"
    page.wait_for_function(loaded, arg=thumb.element_handle())  # served by the proof view, under the CSP
    assert page.evaluate("(img) => img.naturalWidth", thumb.element_handle()) == 120
    page.shots.take("reported")
    sign_out(page)

    sign_in(page, live_server.url, "bo@toys.example")
    page.goto(url)
    row = page.locator(f"#delivery-{cp.pk}")
    actions = page.locator(f"tr.delivery-actions[data-for='{cp.pk}']")
    actions.locator("details.dispute-box summary").click()
    actions.locator("select[name$='-reason']").select_option("reach_overstated")
    actions.locator("textarea[name$='-note']").fill("后台只看到 1.2 万")
    actions.locator("form.dispute-form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(f"#delivery-{cp.pk}")).to_have_attribute("data-state", "disputed")
    expect(page.locator(f"tr.delivery-detail[data-for='{cp.pk}']")).to_contain_text("后台只看到 1.2 万")
    page.shots.take("disputed")

    from exchange.models import DeliveryReport

    report = in_db(lambda: DeliveryReport.objects.get(placement_id=cp.pk))
    assert (report.state, report.reach, report.dispute_reason) == ("disputed", 18_000, "reach_overstated")
