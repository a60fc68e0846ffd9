"""Fixtures for the ledger, settlement and dispute tests, and the ledger's guard over every test.

``ledger_sound`` (autouse) runs after each test that used the database: on PostgreSQL it first
fires the deferred zero-sum triggers (``SET CONSTRAINTS ALL IMMEDIATE`` — a test's transaction
is rolled back, never committed, so they would not fire otherwise), then ``check_ledger``'s
verifier; any difference fails the test that caused it.

``completed`` builds a completed campaign from the ``accepted`` swap with the deliveries a test
asks for: ``completed(coffee_reach=..., toys_reach=...)`` reports each promoter's placements at
that share of their promised quantity, the other side confirms, and the campaign completes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection

from exchange import services
from exchange.ledger.check import ledger_problems
from exchange.models import Campaign, CampaignPlacement


@pytest.fixture(autouse=True)
def ledger_sound(request):
    yield
    if not {"db", "transactional_db", "live_server"} & set(request.fixturenames):
        marker = request.node.get_closest_marker("django_db")
        if marker is None:
            return
    try:
        from exchange.models import LedgerTransaction

        if connection.vendor == "postgresql" and connection.in_atomic_block:
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if not LedgerTransaction.objects.exists():
            return
    except IntegrityError:  # a deferred ledger trigger refused what the test wrote: its failure
        raise
    except Exception:  # the database is gone (a test that tore it down) or unreachable
        return
    problems = ledger_problems()
    assert not problems, "check_ledger after this test:\n" + "\n".join(problems)


def report_and_confirm(campaign, promoter, promoter_actor, answerer_actor, share: float, now=None):
    """Report every placement ``promoter`` runs in ``campaign`` at ``share`` of its promised
    quantity (proof by link), and have the other side confirm. Returns the reports."""
    reports = []
    for cp in CampaignPlacement.objects.filter(leg__campaign=campaign, leg__promoter=promoter).select_related(
        "placement"
    ):
        at = now or cp.ends_at + timedelta(hours=1)
        r = services.delivery_report(
            actor=promoter_actor,
            placement=cp,
            reach=int(cp.placement.quantity * share),
            delivered_at=cp.starts_at + timedelta(hours=2),
            proof_url="https://example.com/proof.png",
            now=at,
        )
        reports.append(services.delivery_confirm(actor=answerer_actor, report=r, now=at + timedelta(minutes=5)))
    return reports


@pytest.fixture
def completed(campaign, coffee, toys, coffee_actor, toys_actor):
    """``completed(coffee_share=1.0, toys_share=1.0)`` → the campaign, completed after both
    sides delivered that share of what they promised (the settlement, if any, is opened)."""

    def make(coffee_share: float = 1.0, toys_share: float = 1.0) -> Campaign:
        services.campaigns_advance(now=campaign.starts_at)
        end = Campaign.objects.get(pk=campaign.pk).ends_at
        if coffee_share:
            report_and_confirm(campaign, coffee, coffee_actor, toys_actor, coffee_share, now=end + timedelta(hours=1))
        if toys_share:
            report_and_confirm(campaign, toys, toys_actor, coffee_actor, toys_share, now=end + timedelta(hours=1))
        lapse = end + timedelta(days=8)  # past any unreported placement's confirmation window
        services.campaigns_advance(now=lapse)
        done = Campaign.objects.get(pk=campaign.pk)
        assert done.state == "completed", done.state
        return done

    return make
