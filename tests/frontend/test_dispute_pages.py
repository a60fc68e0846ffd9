"""The dispute pages: opening from the delivery panel (files and links), the shared dispute
page with both sides' evidence, answering, adding evidence, withdrawing, the access-checked
evidence file, the admin queue (staff only, oldest first) and the resolve page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from exchange import services
from exchange.models import DeliveryReport, Dispute, Settlement
from tests.exchange.delivery_support import image_bytes, placement_of
from tests.factories import BrandFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def logged_in(user, language="en") -> Client:
    c = Client(headers={"accept-language": language})
    c.force_login(user)
    return c


@pytest.fixture
def done(completed):
    return completed(coffee_share=1.0, toys_share=0.5)


def coffee_report(campaign, coffee):
    return DeliveryReport.objects.get(campaign=campaign, placement=placement_of(campaign, coffee))


def open_by_web(client, campaign, report, **extra):
    data = {
        "report": report.pk,
        "reason": "reach_overstated",
        "statement": "Our back office shows 12,000.",
        "links": "https://example.com/stats",
        "files": [
            SimpleUploadedFile("shot.png", image_bytes(), content_type="image/png"),
            SimpleUploadedFile("stats.pdf", PDF, content_type="application/pdf"),
        ],
    }
    data.update(extra)
    return client.post(reverse("frontend:dispute_open", args=[campaign.pk]), data)


def test_the_delivery_panel_links_to_opening_a_dispute(done, coffee, toys_owner):
    page = logged_in(toys_owner).get(reverse("frontend:campaign_delivery", args=[done.pk]))
    html = page.content.decode()
    assert reverse("frontend:dispute_open", args=[done.pk]) + f"?report={coffee_report(done, coffee).pk}" in html
    assert 'id="dispute-result-link"' in html


def test_open_answer_add_and_see_both_sides(done, coffee, toys, toys_owner, coffee_owner):
    toys_web, coffee_web = logged_in(toys_owner), logged_in(coffee_owner)
    report = coffee_report(done, coffee)
    form = toys_web.get(reverse("frontend:dispute_open", args=[done.pk]) + f"?report={report.pk}")
    assert form.status_code == 200 and b"Reach is overstated" in form.content
    response = open_by_web(toys_web, done, report)
    d = Dispute.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("frontend:dispute", args=[d.pk])
    assert d.evidence.count() == 3
    page = coffee_web.get(reverse("frontend:dispute", args=[d.pk])).content.decode()
    assert "Our back office shows 12,000." in page and 'id="dispute-answer"' in page
    assert 'id="dispute-withdraw"' not in page  # only the opener withdraws
    response = coffee_web.post(
        reverse("frontend:dispute_answer", args=[d.pk]),
        {"answer": "Our figure is right.", "links": "https://example.com/ours"},
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == "answered" and d.answer == "Our figure is right."
    response = toys_web.post(reverse("frontend:dispute_evidence_add", args=[d.pk]), {"links": "https://example.com/x"})
    assert response.status_code == 302 and d.evidence.count() == 5
    page = toys_web.get(reverse("frontend:dispute", args=[d.pk])).content.decode()
    assert page.count('class="card dispute-side"') == 2 and "Our figure is right." in page
    # The files come back only through the access-checked view, with their detected type.
    png = d.evidence.filter(file__endswith=".png").get()
    pdf = d.evidence.filter(file__endswith=".pdf").get()
    url = reverse("frontend:dispute_evidence", args=[d.pk, png.pk])
    got = coffee_web.get(url)
    assert got.status_code == 200 and got["Content-Type"] == "image/png" and "sandbox" in got["Content-Security-Policy"]
    assert (
        coffee_web.get(reverse("frontend:dispute_evidence", args=[d.pk, pdf.pk]))["Content-Type"] == "application/pdf"
    )


def test_bad_input_shows_errors_and_stores_nothing(done, coffee, toys_owner):
    toys_web = logged_in(toys_owner)
    response = open_by_web(
        toys_web,
        done,
        coffee_report(done, coffee),
        files=[SimpleUploadedFile("x.png", b"not an image", content_type="image/png")],
    )
    assert response.status_code == 200 and b"PNG, JPEG or WebP image or a PDF" in response.content
    response = open_by_web(toys_web, done, coffee_report(done, coffee), statement="", files=[])
    assert response.status_code == 200
    assert not Dispute.objects.exists()


def test_strangers_get_404_and_non_staff_no_admin_pages(done, coffee, toys_owner):
    open_by_web(logged_in(toys_owner), done, coffee_report(done, coffee))
    d = Dispute.objects.get()
    ev = d.evidence.filter(file__endswith=".png").get()
    stranger = UserFactory()
    MembershipFactory(user=stranger, brand=BrandFactory(slug="stranger"), role="owner")
    web = logged_in(stranger)
    assert web.get(reverse("frontend:dispute", args=[d.pk])).status_code == 404
    assert web.get(reverse("frontend:dispute_evidence", args=[d.pk, ev.pk])).status_code == 404
    assert web.get(reverse("frontend:dispute_open", args=[done.pk])).status_code == 404
    assert web.post(reverse("frontend:dispute_withdraw", args=[d.pk])).status_code == 404
    assert web.get(reverse("frontend:disputes")).content.count(b"data-dispute=") == 0
    assert logged_in(toys_owner).get(reverse("frontend:disputes_admin")).status_code == 403
    assert logged_in(toys_owner).get(reverse("frontend:dispute_resolve", args=[d.pk])).status_code == 403
    anon = Client().get(reverse("frontend:dispute", args=[d.pk]))
    assert anon.status_code == 302


def test_the_admin_queue_and_resolve_page(done, coffee, toys_actor, coffee_actor, admin_user):
    now = done.completed_at + timedelta(days=1)
    report = coffee_report(done, coffee)
    first = services.dispute_open(
        actor=toys_actor, campaign=done, subject="delivery", delivery_report=report, reason="late",
        statement="late", now=now,
    )  # fmt: skip
    second = services.dispute_open(
        actor=coffee_actor, campaign=done, subject="result", reason="other", statement="result", now=now + timedelta(1)
    )
    admin = logged_in(admin_user)
    queue = admin.get(reverse("frontend:disputes_admin")).content.decode()
    assert queue.index(f'data-dispute="{first.pk}"') < queue.index(f'data-dispute="{second.pk}"')
    page = admin.get(reverse("frontend:dispute_resolve", args=[first.pk])).content.decode()
    assert f'name="reach_{report.pk}"' in page and "dispute-sides" in page
    bad = admin.post(
        reverse("frontend:dispute_resolve", args=[first.pk]),
        {"outcome": "upheld", "decision": "x", f"reach_{report.pk}": "-5"},
    )
    assert bad.status_code == 200 and Dispute.objects.get(pk=first.pk).state == "open"
    gap = Settlement.objects.get(campaign=done).gap_value_cents
    ok = admin.post(
        reverse("frontend:dispute_resolve", args=[first.pk]),
        {"outcome": "upheld", "decision": "按后台", f"reach_{report.pk}": str(report.reach // 2)},
    )
    assert ok.status_code == 302
    first.refresh_from_db()
    assert (first.state, first.outcome) == ("resolved", "upheld")
    assert Settlement.objects.get(campaign=done).gap_value_cents < gap
    shown = admin.get(reverse("frontend:dispute", args=[first.pk])).content.decode()
    assert 'id="dispute-decision"' in shown and "按后台" in shown


def test_the_pages_read_in_chinese(done, coffee, toys_owner):
    open_by_web(logged_in(toys_owner), done, coffee_report(done, coffee))
    d = Dispute.objects.get()
    page = logged_in(toys_owner, "zh-hans").get(reverse("frontend:dispute", args=[d.pk])).content.decode()
    assert "争议" in page and "Withdraw the dispute" not in page
