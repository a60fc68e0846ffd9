"""The status e-mail (partners.tasks.brand_status_notify) goes out whatever a brand's stored
name holds: names are checked on the way in now, but rows written before (or by hand) may
carry a line break, which made Django refuse the subject (BadHeaderError) — not retried, the
claim undone, the members never told."""

from __future__ import annotations

import pytest
from django.core import mail

from partners.models import AuditAction, AuditEvent, BrandStatus
from partners.tasks import brand_status_notify
from tests.factories import BrandFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["Luckin\nBcc: victim@example.com", "Luckin\r\nX-Evil: 1", "Luckin\u2028Coffee\x85"])
def test_a_stored_name_with_a_line_break_still_gets_its_status_email(settings, name):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    brand = BrandFactory(name=name, status=BrandStatus.APPROVED)
    MembershipFactory(brand=brand, user=UserFactory(username="owner@luckin.example", email="owner@luckin.example"))
    event = AuditEvent.objects.create(
        brand=brand,
        action=AuditAction.BRAND_APPROVED,
        object_type="brand",
        object_id=str(brand.pk),
        reason="第一行\n第二行",
        data={"from": "pending", "to": "approved"},
    )
    assert brand_status_notify(event.pk) == 1
    (message,) = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "Luckin" in message.subject
    assert message.recipients() == ["owner@luckin.example"]
    assert "第一行\n第二行" in message.body
    event.refresh_from_db()
    assert event.notified_at is not None
