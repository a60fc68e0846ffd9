"""The outbox: one event per state change in the same transaction; dispatch to the inbox and
e-mail is idempotent; e-mails are claimed before sending and go out once, in the recipient's
language, whatever the brand is called."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from exchange import selectors, services
from exchange.models import DomainEvent, EmailDelivery, EventType, Notification
from partners.actors import Actor
from partners.models import Role
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def proposed(coffee, toys, coffee_actor, coffee_wecom, toys_owner, place, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
        )


def test_state_change_dispatches_inbox_and_one_email_on_commit(proposed, toys_owner, coffee_owner):
    event = DomainEvent.objects.get(proposal=proposed)
    assert event.type == EventType.PROPOSAL_CREATED and event.dispatched_at is not None
    assert list(Notification.objects.values_list("user_id", flat=True)) == [toys_owner.pk]
    assert [m.to for m in mail.outbox] == [[toys_owner.email]]
    assert EmailDelivery.objects.get().sent_at is not None


def test_dispatch_twice_changes_nothing(proposed):
    event = DomainEvent.objects.get(proposal=proposed)
    assert services.event_dispatch(event_id=event.pk) == []
    assert Notification.objects.count() == 1 and EmailDelivery.objects.count() == 1
    job = EmailDelivery.objects.get()
    assert services.email_send(delivery_id=job.pk) is False
    assert len(mail.outbox) == 1


def test_viewers_get_the_inbox_but_no_email(
    coffee, toys, coffee_actor, coffee_wecom, place, django_capture_on_commit_callbacks
):
    viewer = MembershipFactory(brand=toys, role=Role.VIEWER, user=UserFactory(username="viewer@toys.example")).user
    marketer = MembershipFactory(brand=toys, role=Role.MARKETER, user=UserFactory(username="mk@toys.example")).user
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10)]
        )
    assert set(Notification.objects.values_list("user_id", flat=True)) == {viewer.pk, marketer.pk}
    assert [m.to for m in mail.outbox] == [[marketer.email]]


def test_email_in_the_recipients_language(
    coffee, toys, coffee_actor, coffee_wecom, place, django_capture_on_commit_callbacks
):
    zh = MembershipFactory(brand=toys, role=Role.OWNER, user=UserFactory(username="zh@toys.example")).user
    en = MembershipFactory(
        brand=toys, role=Role.OWNER, user=UserFactory(username="en@toys.example", language="en")
    ).user
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10)]
        )
    by_to = {m.to[0]: m for m in mail.outbox}
    assert "Bean House proposes a traffic swap to Tiny Toys" in by_to[en.email].subject
    assert "豆仓咖啡" in by_to[zh.email].subject and "置换" in by_to[zh.email].subject


def test_odd_brand_names_never_break_the_email(
    coffee, toys, coffee_actor, coffee_wecom, place, toys_owner, django_capture_on_commit_callbacks
):
    coffee.name = "豆仓\r\nBcc: x@evil.example\x1b咖啡"
    coffee.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10)]
        )
    (message,) = mail.outbox
    assert "\n" not in message.subject and "\x1b" not in message.subject
    assert message.to == [toys_owner.email]


def test_a_claimed_email_is_resent_only_after_its_lease(proposed, settings):
    job = EmailDelivery.objects.get()
    EmailDelivery.objects.filter(pk=job.pk).update(sent_at=None, claimed_at=timezone.now())  # a worker died mid-send
    mail.outbox.clear()
    assert services.email_send(delivery_id=job.pk) is False, "a live claim is respected"
    later = timezone.now() + timedelta(seconds=settings.EXCHANGE_EMAIL_LEASE_SECONDS + 1)
    events, emails = services.outbox_pending(now=later)
    assert emails == [job.pk]
    assert services.email_send(delivery_id=job.pk, now=later) is True
    assert len(mail.outbox) == 1
    assert services.email_send(delivery_id=job.pk, now=later + timedelta(hours=1)) is False


def test_a_failed_send_releases_the_claim(proposed, monkeypatch):
    job = EmailDelivery.objects.get()
    EmailDelivery.objects.filter(pk=job.pk).update(sent_at=None, claimed_at=None)

    def boom(self, *a, **k):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", boom)
    with pytest.raises(ConnectionError):
        services.email_send(delivery_id=job.pk)
    job.refresh_from_db()
    assert job.claimed_at is None and job.sent_at is None and "smtp down" in job.last_error


def test_undispatched_events_are_swept(coffee, toys, coffee_actor, coffee_wecom, place):
    # no on-commit callbacks ran: the enqueue was "lost"
    services.proposal_create(actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10)])
    event = DomainEvent.objects.get()
    assert event.dispatched_at is None
    events, _ = services.outbox_pending(now=timezone.now() + timedelta(minutes=1))
    assert events == [event.pk]


def test_inbox_unread_counts_and_mark_read(proposed, toys_owner, toys_actor, coffee_actor):
    assert selectors.unread_count(actor=toys_actor) == 1
    assert selectors.unread_count(actor=coffee_actor) == 0
    assert selectors.action_count(actor=toys_actor) == 1
    assert services.notifications_mark_read(actor=coffee_actor) == 0  # not theirs
    assert services.notifications_mark_read(actor=toys_actor) == 1
    assert selectors.unread_count(actor=toys_actor) == 0
    assert services.notifications_mark_read(actor=Actor()) == 0


def test_the_language_a_person_uses_the_site_in_is_remembered_for_email(client, toys_owner):
    client.force_login(toys_owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.get("/dashboard/")
    toys_owner.refresh_from_db()
    assert toys_owner.language == "en"
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    client.get("/dashboard/")
    toys_owner.refresh_from_db()
    assert toys_owner.language == "zh-hans"
