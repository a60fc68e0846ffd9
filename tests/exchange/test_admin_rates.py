"""The Django admin's rate table goes through the audited service and refuses bad figures on the form."""

import pytest

from exchange.models import ChannelRate
from partners.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


def test_admin_changes_a_rate_through_the_service(admin_client):
    rate = ChannelRate.objects.get(channel_type="sms", format="sms")
    url = f"/admin/exchange/channelrate/{rate.pk}/change/"
    response = admin_client.post(url, {"rate_cents": "6000", "source": "gateway quote"})
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.rate_cents == 6000
    assert AuditEvent.objects.filter(action=AuditAction.CHANNEL_RATE_SET, data__new_cents=6000).exists()


def test_admin_form_refuses_a_bad_rate_and_changes_nothing(admin_client):
    rate = ChannelRate.objects.get(channel_type="sms", format="sms")
    response = admin_client.post(f"/admin/exchange/channelrate/{rate.pk}/change/", {"rate_cents": "0", "source": ""})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    rate.refresh_from_db()
    assert rate.rate_cents == 5000
    assert not AuditEvent.objects.filter(action=AuditAction.CHANNEL_RATE_SET).exists()
