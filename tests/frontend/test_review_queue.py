"""The platform admins' review queue page."""

import pytest
from django.urls import reverse

from partners.models import AuditAction, AuditEvent, BrandStatus
from tests.factories import BrandFactory
from tests.frontend.conftest import errors_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(db):
    return BrandFactory(slug="tide-coffee", name="潮汐咖啡", status=BrandStatus.PENDING)


def transition_url(brand, action):
    return reverse("frontend:queue_transition", args=[brand.pk, action])


def test_anonymous_visitors_are_sent_to_sign_in(client, pending):
    assert client.get(reverse("frontend:queue"))["Location"].startswith(reverse("frontend:login"))
    assert client.post(transition_url(pending, "approve"))["Location"].startswith(reverse("frontend:login"))


def test_non_staff_get_403_and_change_nothing(owner_client, pending):
    assert owner_client.get(reverse("frontend:queue")).status_code == 403
    assert owner_client.post(transition_url(pending, "approve")).status_code == 403
    pending.refresh_from_db()
    assert pending.status == BrandStatus.PENDING
    assert not AuditEvent.objects.exists()


def test_queue_shows_pending_brands_by_default_and_filters(admin_client_, pending, brand):
    html = admin_client_.get(reverse("frontend:queue")).content.decode()
    assert pending.name in html and brand.name not in html
    html = admin_client_.get(reverse("frontend:queue"), {"status": "approved"}).content.decode()
    assert brand.name in html and pending.name not in html
    html = admin_client_.get(reverse("frontend:queue"), {"status": "", "q": "tide"}).content.decode()
    assert pending.name in html and brand.name not in html


def test_admin_approves_through_the_service_with_an_audit_event(admin_client_, admin_user, pending):
    response = admin_client_.post(transition_url(pending, "approve"), {"reason": "执照已核验"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == BrandStatus.APPROVED
    event = AuditEvent.objects.get(brand=pending, action=AuditAction.BRAND_APPROVED)
    assert event.actor == admin_user and event.reason == "执照已核验"


def test_reject_without_a_reason_is_refused_and_changes_nothing(admin_client_, pending):
    admin_client_.cookies.load({"django_language": "en"})
    response = admin_client_.post(transition_url(pending, "reject"), {"reason": "  "}, follow=True)
    assert "A reason is required." in errors_in(response)
    pending.refresh_from_db()
    assert pending.status == BrandStatus.PENDING
    assert not AuditEvent.objects.exists()


def test_a_transition_not_allowed_from_the_current_status_is_refused(admin_client_, brand):
    admin_client_.cookies.load({"django_language": "en"})
    response = admin_client_.post(transition_url(brand, "reinstate"), follow=True)
    assert "“Reinstate” is not possible for a brand that is Approved." in errors_in(response)
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED


def test_suspend_then_reinstate(admin_client_, brand):
    admin_client_.post(transition_url(brand, "suspend"), {"reason": "投诉核实中"})
    brand.refresh_from_db()
    assert (brand.status, brand.status_reason) == (BrandStatus.SUSPENDED, "投诉核实中")
    admin_client_.post(transition_url(brand, "reinstate"))
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED
    assert list(AuditEvent.objects.filter(brand=brand).values_list("action", flat=True)) == [
        AuditAction.BRAND_REINSTATED,
        AuditAction.BRAND_SUSPENDED,
    ]


def test_unknown_brand_is_404(admin_client_):
    assert admin_client_.post(reverse("frontend:queue_transition", args=[999999, "approve"])).status_code == 404


def test_after_an_action_the_queue_keeps_its_filter_and_nothing_else(admin_client_, pending):
    response = admin_client_.post(
        transition_url(pending, "approve"), {"back": "status=pending&q=tide&next=https://evil.example/"}
    )
    assert response["Location"] == reverse("frontend:queue") + "?status=pending&q=tide"
