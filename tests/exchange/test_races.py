"""Conflicting actions at the same moment on PostgreSQL: exactly one wins, the other is refused
with ``not_open`` or ``stale_revision`` — never two winners, never a half-written proposal."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from exchange import services
from exchange.errors import ExchangeError as E
from exchange.models import DomainEvent, Revision
from exchange.states import ProposalState

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    """Run each call in its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = ("ok", fn())
        except ValidationError as exc:
            results[i] = ("refused", {e.code for errs in exc.error_dict.values() for e in errs})
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def countered(coffee, toys, coffee_actor, toys_actor, coffee_wecom, toys_wecom, place):
    if connection.vendor != "postgresql":
        pytest.fail("race tests run on PostgreSQL (make test)")
    p = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
    )
    (theirs,) = p.revisions.get().placements.all()
    services.proposal_counter(
        actor=toys_actor,
        proposal=p,
        revision=1,
        placements=[place(None, 1000, based_on=theirs), place(toys_wecom, 1000)],
    )
    p.refresh_from_db()
    return p


@pytest.mark.parametrize("repeat", range(3))
def test_accept_versus_withdraw_exactly_one_wins(countered, coffee_actor, repeat):
    # coffee is both the side whose turn it is (accept) and the initiator (withdraw)
    results = _race(
        lambda: services.proposal_accept(actor=coffee_actor, proposal=countered, revision=2),
        lambda: services.proposal_withdraw(actor=coffee_actor, proposal=countered),
    )
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["ok", "refused"], results
    loser = next(r for r in results if r[0] == "refused")
    assert loser[1] == {E.NOT_OPEN}
    countered.refresh_from_db()
    assert countered.state in (ProposalState.ACCEPTED, ProposalState.WITHDRAWN)
    closing = DomainEvent.objects.filter(proposal=countered, type__in=["proposal.accepted", "proposal.withdrawn"])
    assert closing.count() == 1


@pytest.mark.parametrize("repeat", range(3))
def test_two_counters_exactly_one_wins(countered, coffee_actor, coffee_wecom, place, repeat):
    current = countered.revisions.get(number=2)
    carried = [place(None, 500, based_on=p) for p in current.placements.exclude(brand=countered.initiator)]

    def counter(quantity):
        return lambda: services.proposal_counter(
            actor=coffee_actor, proposal=countered, revision=2, placements=[*carried, place(coffee_wecom, quantity)]
        )

    results = _race(counter(700), counter(800))
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    loser = next(r for r in results if r[0] == "refused")
    assert loser[1] & {E.STALE_REVISION, E.NOT_YOUR_TURN}
    assert Revision.objects.filter(proposal=countered).count() == 3


def test_two_brands_proposing_to_each_other_at_once_leaves_one_open(
    coffee, toys, coffee_actor, toys_actor, coffee_wecom, toys_wecom, place
):
    if connection.vendor != "postgresql":
        pytest.fail("race tests run on PostgreSQL (make test)")
    results = _race(
        lambda: services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10)]
        ),
        lambda: services.proposal_create(
            actor=toys_actor, brand=toys, counterparty=coffee, placements=[place(toys_wecom, 10)]
        ),
    )
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    assert next(r for r in results if r[0] == "refused")[1] == {E.ALREADY_OPEN}


def test_the_daily_limit_holds_under_simultaneous_proposals(coffee, coffee_actor, coffee_wecom, place, settings):
    if connection.vendor != "postgresql":
        pytest.fail("race tests run on PostgreSQL (make test)")
    from tests.factories import BrandFactory, category

    settings.EXCHANGE_DAILY_PROPOSAL_LIMIT = 1
    partners = [BrandFactory(category=category("toys.collectibles")) for _ in range(4)]
    results = _race(
        *[
            (
                lambda p=p: services.proposal_create(
                    actor=coffee_actor, brand=coffee, counterparty=p, placements=[place(coffee_wecom, 10)]
                )
            )
            for p in partners
        ]
    )
    assert sorted(r[0] for r in results) == ["ok", "refused", "refused", "refused"], results
    assert all(r[1] == {E.DAILY_LIMIT} for r in results if r[0] == "refused")
