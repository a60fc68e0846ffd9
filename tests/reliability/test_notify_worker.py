"""A status change is mailed by a real Celery worker, exactly once even if redelivered."""

import pytest
from celery.result import EagerResult

from partners import services
from partners.models import AuditAction, AuditEvent, BrandStatus
from partners.tasks import brand_status_notify
from tests.conftest import wait_for
from tests.factories import BrandFactory, MembershipFactory, UserFactory


@pytest.mark.worker
def test_approval_notification_runs_on_the_worker_and_is_idempotent(celery_worker, admin_actor):
    brand = BrandFactory(status=BrandStatus.PENDING)
    MembershipFactory(brand=brand, user=UserFactory(username="owner-w@example.com"))
    services.brand_approve(actor=admin_actor, brand=brand)  # on_commit → Redis → worker
    event = AuditEvent.objects.get(brand=brand, action=AuditAction.BRAND_APPROVED)
    wait_for(lambda: AuditEvent.objects.filter(pk=event.pk, notified_at__isnull=False).exists())
    # A second delivery of the same task finds the row claimed and sends nothing.
    result = brand_status_notify.delay(event.pk)
    assert not isinstance(result, EagerResult), "the task must go through the broker to the worker"
    assert result.get(timeout=20) == 0
