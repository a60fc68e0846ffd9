"""The demo market ships proposals in every state, made through the real services, once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from exchange import selectors
from exchange.demo import demo_swaps_load
from exchange.models import Proposal
from exchange.states import ProposalState
from partners.actors import Actor
from partners.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_swaps_cover_every_inbox_tab_and_load_once(django_capture_on_commit_callbacks):
    demo_load(generated=0)
    with django_capture_on_commit_callbacks(execute=True):
        assert demo_swaps_load().proposals == 6
    states = set(Proposal.objects.values_list("state", flat=True))
    assert states == {
        ProposalState.PROPOSED,
        ProposalState.COUNTERED,
        ProposalState.ACCEPTED,
        ProposalState.DECLINED,
        ProposalState.EXPIRED,
    }
    owner = Actor(user=get_user_model().objects.get(username="owner@huiliu.demo"))
    assert selectors.proposal_list(actor=owner, box=selectors.Box.NEEDS_ACTION).count() == 2
    assert selectors.proposal_list(actor=owner, box=selectors.Box.CLOSED).count() == 2
    assert selectors.unread_count(actor=owner) > 0
    accepted = Proposal.objects.get(state=ProposalState.ACCEPTED)
    last = accepted.revisions.order_by("-number").first()
    gap = abs(last.initiator_value_cents - last.counterparty_value_cents)
    assert gap <= 0.1 * max(last.initiator_value_cents, last.counterparty_value_cents), "the accepted demo swap is fair"
    assert demo_swaps_load().proposals == 0  # a second load creates nothing
    assert Proposal.objects.count() == 6
