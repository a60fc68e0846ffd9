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


def test_status_email_is_in_each_members_language(db, admin_actor):
    from django.core import mail

    from partners import services
    from partners.models import BrandStatus, Role
    from partners.tasks import brand_status_notify
    from tests.factories import BrandFactory, MembershipFactory, UserFactory

    brand = BrandFactory(status=BrandStatus.PENDING, name="豆仓咖啡", name_en="Bean House")
    MembershipFactory(brand=brand, role=Role.OWNER, user=UserFactory(username="zh@bean.example"))
    MembershipFactory(brand=brand, role=Role.MARKETER, user=UserFactory(username="en@bean.example", language="en"))
    services.brand_approve(actor=admin_actor, brand=brand)
    from partners.models import AuditEvent

    event = AuditEvent.objects.filter(brand=brand).latest("id")
    mail.outbox.clear()
    assert brand_status_notify(event.pk) == 2
    by_to = {m.to[0]: m.subject for m in mail.outbox}
    assert "Bean House" in by_to["en@bean.example"] and "Approved" in by_to["en@bean.example"]
    assert "豆仓咖啡" in by_to["zh@bean.example"] and "已通过" in by_to["zh@bean.example"]
