"""Fixtures for the exchange, shared by every test folder: two approved, non-competing brands with
channels and an owner each — the parties of a swap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.actors import Actor
from partners.models import ChannelType, Role
from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category


@pytest.fixture
def coffee(db):
    return BrandFactory(slug="bean-house", name="豆仓咖啡", name_en="Bean House", category=category("beverage.coffee"))


@pytest.fixture
def toys(db):
    return BrandFactory(slug="tiny-toys", name="小小玩具", name_en="Tiny Toys", category=category("toys.collectibles"))


@pytest.fixture
def coffee_wecom(coffee):
    return ChannelFactory(brand=coffee, type=ChannelType.WECOM, label="会员企微", size=100_000, active_rate=0.5)


@pytest.fixture
def coffee_group(coffee):
    return ChannelFactory(brand=coffee, type=ChannelType.WECHAT_GROUP, label="福利群", size=40_000, active_rate=0.5)


@pytest.fixture
def toys_wecom(toys):
    return ChannelFactory(brand=toys, type=ChannelType.WECOM, label="粉丝企微", size=60_000, active_rate=0.5)


@pytest.fixture
def toys_sms(toys):
    return ChannelFactory(brand=toys, type=ChannelType.SMS, label="会员短信", size=200_000, active_rate=0.9)


@pytest.fixture
def coffee_owner(coffee):
    return MembershipFactory(brand=coffee, role=Role.OWNER, user=UserFactory(username="amy@bean.example")).user


@pytest.fixture
def toys_owner(toys):
    return MembershipFactory(brand=toys, role=Role.OWNER, user=UserFactory(username="bo@toys.example")).user


@pytest.fixture
def coffee_actor(coffee_owner):
    return Actor(user=coffee_owner)


@pytest.fixture
def toys_actor(toys_owner):
    return Actor(user=toys_owner)


@pytest.fixture
def window():
    start = timezone.localdate() + timedelta(days=2)
    return start, start + timedelta(days=6)


@pytest.fixture
def place(window):
    """place(channel, quantity, fmt=...) → a placement spec dict for one of the author's channels."""

    def make(channel, quantity, fmt="direct_message", based_on=None, starts_on=None, ends_on=None):
        spec = {
            "format": fmt,
            "quantity": quantity,
            "starts_on": starts_on or window[0],
            "ends_on": ends_on or window[1],
        }
        if based_on is not None:
            spec["based_on_id"] = based_on.pk
        else:
            spec["channel_id"] = channel.pk
        return spec

    return make


@pytest.fixture
def accepted(coffee, toys, coffee_actor, toys_actor, coffee_wecom, coffee_group, toys_wecom, place, window):
    """A swap accepted after one counter: Bean House gives a WeCom message and a group broadcast
    (days 2–8 and 4–5 from today), Tiny Toys a WeCom message (days 3–10)."""
    from exchange import services

    start = window[0]
    proposal = services.proposal_create(
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[
            place(coffee_wecom, 20_000),
            place(
                coffee_group,
                5_000,
                fmt="group_broadcast",
                starts_on=start + timedelta(days=2),
                ends_on=start + timedelta(days=3),
            ),
        ],
    )
    carried = list(proposal.revisions.get().placements.all())
    services.proposal_counter(
        actor=toys_actor,
        proposal=proposal,
        revision=1,
        placements=[
            *(
                place(None, p.quantity, fmt=p.format, based_on=p, starts_on=p.starts_on, ends_on=p.ends_on)
                for p in carried
            ),
            place(toys_wecom, 20_000, starts_on=start + timedelta(days=1), ends_on=start + timedelta(days=8)),
        ],
    )
    return services.proposal_accept(actor=coffee_actor, proposal=proposal, revision=2)


@pytest.fixture
def campaign(accepted):
    return accepted.campaign


_redis_clients: dict = {}


@pytest.fixture(autouse=True)
def event_stream(settings):
    """Every test gets its own click-event stream (stale entries of another test, or of an
    earlier run on the same Redis, would otherwise reach its flush), dropped afterwards, and no
    link remembered by the process from an earlier test."""
    import uuid

    import redis

    from exchange import streams
    from exchange.services.tracking import link_memo_clear

    name = f"test:clicks:{uuid.uuid4().hex[:12]}"
    settings.EXCHANGE_EVENTS_STREAM = name
    streams.reset()
    link_memo_clear()
    yield name
    url = settings.EXCHANGE_EVENTS_REDIS_URL
    if url:
        client = _redis_clients.get(url) or _redis_clients.setdefault(
            url, redis.Redis.from_url(url, socket_connect_timeout=0.5)
        )
        try:
            client.delete(name)
        except redis.RedisError:
            pass
    streams.reset()
