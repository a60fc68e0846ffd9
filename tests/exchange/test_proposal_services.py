"""Proposal services: every transition, every guard (one test per error code), nothing
written on error, outbox rows in the same transaction, outcomes reaching the matcher."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from exchange import services, valuation
from exchange.errors import ExchangeError as E
from exchange.models import ChannelRate, DomainEvent, EventType, Placement, Proposal, Revision
from exchange.states import DeclineReason, ProposalState
from matching.models import Outcome, OutcomeKind
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent, BrandBlock, BrandStatus, ChannelType, Role
from tests.factories import BrandFactory, MembershipFactory, UserFactory, category


def codes(exc: ValidationError) -> set[str]:
    return {e.code for errors in exc.error_dict.values() for e in errors}


def snapshot():
    return (
        Proposal.objects.count(),
        Revision.objects.count(),
        Placement.objects.count(),
        DomainEvent.objects.count(),
        Outcome.objects.count(),
    )


@pytest.fixture
def proposed(coffee, toys, coffee_actor, coffee_wecom, place):
    return services.proposal_create(
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 20_000)],
        message="一起做个会员互推？",
        asks=[{"format": "direct_message", "quantity": 20_000}],
    )


def refused(code, fn, **kwargs):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    assert code in codes(exc.value), exc.value
    assert snapshot() == before, "a refused action must write nothing"
    return exc.value


# --- the happy path -------------------------------------------------------------------------
def test_propose_values_placements_at_the_rate_and_passes_the_turn(proposed, coffee, toys):
    rev = proposed.revisions.get()
    (p,) = rev.placements.all()
    rate = ChannelRate.objects.get(channel_type=ChannelType.WECOM, format="direct_message")
    assert p.rate_cents == rate.rate_cents and p.unit == "cpm"
    assert p.value_cents == 20_000 * rate.rate_cents // 1000
    assert rev.initiator_value_cents == p.value_cents and rev.counterparty_value_cents == 0
    assert proposed.state == ProposalState.PROPOSED and proposed.turn == toys and proposed.revision_number == 1
    assert proposed.expires_at > timezone.now() + timedelta(days=6)
    assert rev.asks == [{"format": "direct_message", "quantity": 20_000, "note": ""}]


def test_full_negotiation_counter_then_accept(proposed, coffee, toys, coffee_actor, toys_actor, toys_wecom, place):
    (theirs,) = proposed.revisions.get().placements.all()
    services.proposal_counter(
        actor=toys_actor,
        proposal=proposed,
        revision=1,
        placements=[place(None, 15_000, based_on=theirs), place(toys_wecom, 15_000)],
        message="我们这边 1.5 万",
    )
    proposed.refresh_from_db()
    assert proposed.state == ProposalState.COUNTERED and proposed.turn == coffee and proposed.revision_number == 2
    rev2 = proposed.revisions.get(number=2)
    assert rev2.author == toys
    assert rev2.initiator_value_cents == rev2.counterparty_value_cents == 15_000 * 12_000 // 1000
    # revision 1 is untouched (immutable history)
    assert proposed.revisions.get(number=1).placements.get().quantity == 20_000

    services.proposal_accept(actor=coffee_actor, proposal=proposed, revision=2)
    proposed.refresh_from_db()
    assert proposed.state == ProposalState.ACCEPTED and proposed.turn is None and proposed.closed_at
    types = list(DomainEvent.objects.filter(proposal=proposed).values_list("type", flat=True))
    assert types == [EventType.PROPOSAL_CREATED, EventType.PROPOSAL_COUNTERED, EventType.PROPOSAL_ACCEPTED]
    actions = set(AuditEvent.objects.filter(object_type="proposal").values_list("action", flat=True))
    assert {AuditAction.PROPOSAL_CREATED, AuditAction.PROPOSAL_COUNTERED, AuditAction.PROPOSAL_ACCEPTED} <= actions


def test_outcomes_reach_the_matcher_once(proposed, coffee, toys, toys_actor):
    services.proposal_decline(
        actor=toys_actor, proposal=proposed, revision=1, reason=DeclineReason.TIMING, note="下个月再聊"
    )
    rows = list(Outcome.objects.filter(brand_a=coffee, brand_b=toys).values_list("outcome", "reason", "source"))
    assert sorted(rows) == sorted(
        [(OutcomeKind.PROPOSED, "", "exchange"), (OutcomeKind.DECLINED, DeclineReason.TIMING, "exchange")]
    )


def _recommend(brand, partner, slot):
    from matching.models import Recommendation

    return Recommendation.objects.create(brand=brand, partner=partner, rank=1, score=0.5, slot=slot)


@pytest.mark.usefixtures("fresh_matching_state")
def test_every_outcome_of_a_proposal_from_an_explore_slot_records_that_slot(
    coffee, toys, coffee_actor, toys_actor, coffee_wecom, toys_wecom, place
):
    from matching import services as matching_services
    from matching.models import Recommendation, SlotType

    _recommend(coffee, toys, SlotType.EXPLORE)
    proposal = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 20_000)]
    )
    assert proposal.slot == SlotType.EXPLORE
    # What the refresh the proposal scheduled does: the pair under negotiation leaves the list.
    for brand in (coffee, toys):
        matching_services.recommendations_refresh_brand(brand_id=brand.pk)
    assert not Recommendation.objects.filter(brand=coffee, partner=toys).exists()
    (theirs,) = proposal.revisions.get().placements.all()
    services.proposal_counter(
        actor=toys_actor,
        proposal=proposal,
        revision=1,
        placements=[place(None, 20_000, based_on=theirs), place(toys_wecom, 20_000)],
    )
    services.proposal_accept(actor=coffee_actor, proposal=proposal, revision=2)
    campaign = Proposal.objects.get(pk=proposal.pk).campaign
    assert services.campaigns_advance(now=campaign.ends_at + timedelta(days=30)).completed == 1
    rows = dict(Outcome.objects.filter(brand_a=coffee, brand_b=toys).values_list("outcome", "slot"))
    assert rows == {
        OutcomeKind.PROPOSED: SlotType.EXPLORE,
        OutcomeKind.ACCEPTED: SlotType.EXPLORE,
        OutcomeKind.COMPLETED: SlotType.EXPLORE,
    }


@pytest.mark.usefixtures("fresh_matching_state")
def test_a_declined_or_expired_proposal_keeps_the_slot_it_was_made_from(
    coffee, toys, coffee_actor, toys_actor, coffee_wecom, place, db
):
    from matching.models import Recommendation, SlotType

    _recommend(coffee, toys, SlotType.RANKED)
    declined = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 20_000)]
    )
    Recommendation.objects.filter(brand=coffee).delete()  # the refresh after it was opened
    services.proposal_decline(actor=toys_actor, proposal=declined, revision=1, reason=DeclineReason.CAPACITY)
    _recommend(coffee, toys, SlotType.EXPLORE)
    expired = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10_000)]
    )
    Recommendation.objects.filter(brand=coffee).delete()
    assert services.proposals_expire(now=expired.expires_at) == 1
    slots = {
        key.split(":", 2)[2]: slot
        for key, slot in Outcome.objects.filter(brand_a=coffee, brand_b=toys).values_list("key", "slot")
    }
    assert slots == {
        f"{declined.pk}:proposed": SlotType.RANKED,
        f"{declined.pk}:declined": SlotType.RANKED,
        f"{expired.pk}:proposed": SlotType.EXPLORE,
        f"{expired.pk}:expired": SlotType.EXPLORE,
    }


def test_a_proposal_to_a_partner_not_recommended_has_no_slot(proposed, coffee, toys):
    assert proposed.slot == ""
    assert set(Outcome.objects.filter(brand_a=coffee, brand_b=toys).values_list("slot", flat=True)) == {""}


def test_the_migration_copies_a_proposals_slot_from_its_proposed_outcome_onto_it_and_its_later_outcomes(accepted):
    import importlib

    from django.apps import apps

    from matching.models import SlotType

    migration = importlib.import_module("exchange.migrations.0019_proposal_slot")
    # as recorded before Proposal.slot: only the "proposed" row saw the recommendation
    Proposal.objects.filter(pk=accepted.pk).update(slot="")
    Outcome.objects.filter(key=f"exchange:proposal:{accepted.pk}:proposed").update(slot=SlotType.EXPLORE)
    completed = Outcome.objects.create(
        brand_a_id=accepted.initiator_id,
        brand_b_id=accepted.counterparty_id,
        outcome=OutcomeKind.COMPLETED,
        key=f"exchange:campaign:{accepted.campaign.pk}:completed",
    )
    other = Outcome.objects.create(
        brand_a_id=accepted.initiator_id, brand_b_id=accepted.counterparty_id, outcome=OutcomeKind.DECLINED, key="x"
    )
    migration.backfill(apps, None)
    assert Proposal.objects.get(pk=accepted.pk).slot == SlotType.EXPLORE
    assert Outcome.objects.get(key=f"exchange:proposal:{accepted.pk}:accepted").slot == SlotType.EXPLORE
    completed.refresh_from_db()
    other.refresh_from_db()
    assert (completed.slot, other.slot) == (SlotType.EXPLORE, "")


def test_withdraw_by_initiator(proposed, coffee_actor):
    services.proposal_withdraw(actor=coffee_actor, proposal=proposed)
    proposed.refresh_from_db()
    assert proposed.state == ProposalState.WITHDRAWN
    assert DomainEvent.objects.filter(proposal=proposed, type=EventType.PROPOSAL_WITHDRAWN).count() == 1


def test_expiry_closes_unanswered_proposals_only(proposed, coffee, toys, coffee_actor, place, db):
    assert services.proposals_expire() == 0
    later = proposed.expires_at + timedelta(seconds=1)
    assert services.proposals_expire(now=later) == 1
    proposed.refresh_from_db()
    assert proposed.state == ProposalState.EXPIRED
    assert Outcome.objects.filter(outcome=OutcomeKind.EXPIRED, brand_a=coffee, brand_b=toys).count() == 1
    assert services.proposals_expire(now=later) == 0  # idempotent


def test_a_counter_restarts_the_expiry_clock(proposed, toys_actor, toys_wecom, place):
    first = proposed.expires_at
    (theirs,) = proposed.revisions.get().placements.all()
    services.proposal_counter(
        actor=toys_actor,
        proposal=proposed,
        revision=1,
        placements=[place(None, 20_000, based_on=theirs), place(toys_wecom, 10_000)],
    )
    proposed.refresh_from_db()
    assert proposed.expires_at > first


def test_message_thread_both_sides(proposed, coffee_actor, toys_actor):
    services.proposal_message_send(actor=toys_actor, proposal=proposed, body="周末方便吗？")
    services.proposal_message_send(actor=coffee_actor, proposal=proposed, body="可以")
    assert [m.brand.slug for m in proposed.messages.all()] == ["tiny-toys", "bean-house"]
    assert DomainEvent.objects.filter(type=EventType.PROPOSAL_MESSAGE).count() == 2


# --- guards: one test per code ----------------------------------------------------------------
def test_self_proposal_refused(coffee, coffee_actor, coffee_wecom, place):
    refused(
        E.SELF_PROPOSAL,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=coffee,
        placements=[place(coffee_wecom, 100)],
    )


def test_competitor_refused(coffee, coffee_actor, coffee_wecom, place):
    rival = BrandFactory(category=category("beverage.coffee"))
    refused(
        E.COMPETITOR,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=rival,
        placements=[place(coffee_wecom, 100)],
    )


def test_blocked_refused_both_directions(coffee, toys, coffee_actor, coffee_wecom, place):
    BrandBlock.objects.create(brand=toys, blocked=coffee)
    refused(
        E.BLOCKED,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 100)],
    )


@pytest.mark.parametrize(
    ("status", "code"), [(BrandStatus.PENDING, E.NOT_APPROVED), (BrandStatus.SUSPENDED, E.SUSPENDED)]
)
def test_unapproved_or_suspended_counterparty_refused(status, code, coffee, toys, coffee_actor, coffee_wecom, place):
    toys.status = status
    toys.save()
    refused(
        code,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 100)],
    )


def test_suspension_mid_negotiation_blocks_accept(proposed, toys, toys_actor, toys_wecom, place, coffee):
    (theirs,) = proposed.revisions.get().placements.all()
    services.proposal_counter(
        actor=toys_actor,
        proposal=proposed,
        revision=1,
        placements=[place(None, 100, based_on=theirs), place(toys_wecom, 100)],
    )
    coffee.status = BrandStatus.SUSPENDED
    coffee.save()
    coffee_member = coffee.memberships.get().user
    refused(E.SUSPENDED, services.proposal_accept, actor=Actor(user=coffee_member), proposal=proposed, revision=2)


def test_channel_of_another_brand_refused(coffee, toys, coffee_actor, toys_wecom, place):
    refused(
        E.NOT_YOUR_CHANNEL,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(toys_wecom, 100)],
    )


def test_format_the_channel_type_cannot_carry_refused(coffee, toys, coffee_actor, coffee_wecom, place):
    refused(
        E.FORMAT_NOT_AVAILABLE,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 100, fmt="parcel_insert")],
    )


def test_reach_above_active_audience_refused(coffee, toys, coffee_actor, coffee_wecom, place):
    # 100,000 contacts × 50% active = 50,000
    exc = refused(
        E.REACH_ABOVE_AUDIENCE,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 50_001)],
    )
    assert "50,000" in str(exc)


def test_empty_side_refused(coffee, toys, coffee_actor, place):
    refused(E.EMPTY_SIDE, services.proposal_create, actor=coffee_actor, brand=coffee, counterparty=toys, placements=[])


def test_accept_with_an_empty_side_refused(proposed, toys_actor):
    refused(E.EMPTY_SIDE, services.proposal_accept, actor=toys_actor, proposal=proposed, revision=1)


def test_window_in_the_past_refused(coffee, toys, coffee_actor, coffee_wecom, place):
    yesterday = timezone.localdate() - timedelta(days=1)
    refused(
        E.WINDOW_IN_PAST,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 100, starts_on=yesterday, ends_on=yesterday + timedelta(days=3))],
    )


def test_inverted_window_refused(coffee, toys, coffee_actor, coffee_wecom, place, window):
    refused(
        E.WINDOW_INVERTED,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 100, starts_on=window[1], ends_on=window[0])],
    )


def test_acting_out_of_turn_refused(proposed, coffee_actor, coffee_wecom, place):
    refused(E.NOT_YOUR_TURN, services.proposal_accept, actor=coffee_actor, proposal=proposed, revision=1)
    refused(
        E.NOT_YOUR_TURN,
        services.proposal_counter,
        actor=coffee_actor,
        proposal=proposed,
        revision=1,
        placements=[place(coffee_wecom, 100)],
    )


def test_stale_revision_refused(proposed, toys_actor, toys_wecom, place):
    (theirs,) = proposed.revisions.get().placements.all()
    refused(
        E.STALE_REVISION,
        services.proposal_counter,
        actor=toys_actor,
        proposal=proposed,
        revision=0,
        placements=[place(None, 100, based_on=theirs), place(toys_wecom, 100)],
    )


def test_second_open_proposal_for_the_pair_refused_either_direction(
    proposed, coffee, toys, toys_actor, toys_wecom, place
):
    refused(
        E.ALREADY_OPEN,
        services.proposal_create,
        actor=toys_actor,
        brand=toys,
        counterparty=coffee,
        placements=[place(toys_wecom, 100)],
    )


def test_database_refuses_a_second_open_proposal_even_without_the_check(proposed, coffee, toys):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(initiator=toys, counterparty=coffee, turn=coffee)


def test_after_a_closed_proposal_the_pair_may_propose_again(proposed, coffee, toys, coffee_actor, coffee_wecom, place):
    services.proposal_withdraw(actor=coffee_actor, proposal=proposed)
    again = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 100)]
    )
    assert again.state == ProposalState.PROPOSED


@override_settings(EXCHANGE_DAILY_PROPOSAL_LIMIT=2)
def test_daily_limit_of_new_proposals(coffee, coffee_actor, coffee_wecom, place):
    for _ in range(2):
        partner = BrandFactory(category=category("toys.collectibles"))
        services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=partner, placements=[place(coffee_wecom, 100)]
        )
    refused(
        E.DAILY_LIMIT,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=BrandFactory(category=category("toys.collectibles")),
        placements=[place(coffee_wecom, 100)],
    )


def test_decline_needs_a_reason(proposed, toys_actor):
    refused(E.REASON_REQUIRED, services.proposal_decline, actor=toys_actor, proposal=proposed, revision=1, reason="")
    refused(
        E.REASON_REQUIRED,
        services.proposal_decline,
        actor=toys_actor,
        proposal=proposed,
        revision=1,
        reason=DeclineReason.OTHER,
        note="  ",
    )


def test_acting_on_a_closed_proposal_refused(proposed, coffee_actor, toys_actor):
    services.proposal_withdraw(actor=coffee_actor, proposal=proposed)
    refused(E.NOT_OPEN, services.proposal_accept, actor=toys_actor, proposal=proposed, revision=1)
    refused(E.NOT_OPEN, services.proposal_withdraw, actor=coffee_actor, proposal=proposed)


def test_only_the_initiator_withdraws(proposed, toys_actor):
    refused(E.PERMISSION_DENIED, services.proposal_withdraw, actor=toys_actor, proposal=proposed)


def test_outsiders_viewers_and_admins_cannot_negotiate(proposed, coffee, admin_actor):
    viewer = MembershipFactory(brand=proposed.counterparty, role=Role.VIEWER, user=UserFactory()).user
    outsider = MembershipFactory(brand=BrandFactory(), role=Role.OWNER, user=UserFactory()).user
    for actor in (Actor(user=viewer), Actor(user=outsider), admin_actor):
        refused(E.PERMISSION_DENIED, services.proposal_accept, actor=actor, proposal=proposed, revision=1)
        refused(E.PERMISSION_DENIED, services.proposal_message_send, actor=actor, proposal=proposed, body="hi")


def test_topup_only_closes_the_gap(coffee, toys, coffee_actor, coffee_wecom, place):
    # coffee gives value, toys nothing yet → toys is lighter; a top-up above the gap is refused
    refused(
        E.INVALID_TOPUP,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 1000)],
        topup_cents=10**9,
    )


def test_all_placement_errors_come_at_once(coffee, toys, coffee_actor, coffee_wecom, place, window):
    exc = refused(
        E.REACH_ABOVE_AUDIENCE,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 10**7), place(coffee_wecom, 100, starts_on=window[1], ends_on=window[0])],
    )
    assert set(exc.message_dict) == {"placements[0].quantity", "placements[1].ends_on"}


# --- rates ---------------------------------------------------------------------------------------
def test_rate_change_is_audited_and_does_not_rewrite_history(proposed, admin_actor):
    before = proposed.revisions.get().placements.get().value_cents
    services.channel_rate_set(actor=admin_actor, channel_type="wecom", format="direct_message", rate_cents=1)
    assert proposed.revisions.get().placements.get().value_cents == before
    event = AuditEvent.objects.get(action=AuditAction.CHANNEL_RATE_SET)
    assert event.data["new_cents"] == 1 and event.data["old_cents"] == 120_00


def test_rate_change_by_a_brand_refused(coffee_actor):
    with pytest.raises(ValidationError) as exc:
        services.channel_rate_set(actor=coffee_actor, channel_type="wecom", format="direct_message", rate_cents=1)
    assert codes(exc.value) == {E.PERMISSION_DENIED}


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, 10**12])
def test_bad_rate_refused(admin_actor, bad):
    with pytest.raises(ValidationError) as exc:
        services.channel_rate_set(actor=admin_actor, channel_type="wecom", format="direct_message", rate_cents=bad)
    assert codes(exc.value) == {E.INVALID_RATE}


# --- balance and suggestions ----------------------------------------------------------------------
def test_balance_gap_and_lighter_side():
    b = valuation.balance(300_00, 200_00)
    assert (b.gap_cents, b.lighter, b.gap_percent, b.balanced) == (100_00, "counterparty", 33.3, False)
    b = valuation.balance(300_00, 200_00, topup_cents=80_00)
    assert (b.gap_cents, b.topup_from, b.lighter) == (20_00, "counterparty", "counterparty")
    assert valuation.balance(0, 0).lighter is None


def test_suggestion_closes_the_gap_from_own_channels_only(
    coffee, toys, toys_actor, toys_wecom, toys_sms, proposed, place
):
    (theirs,) = proposed.revisions.get().placements.all()
    preview = services.proposal_preview(
        actor=toys_actor,
        brand=toys,
        counterparty=coffee,
        proposal=proposed,
        placements=[place(None, 20_000, based_on=theirs), place(toys_wecom, 5_000)],
    )
    assert preview.lighter_is_author and preview.balance.gap_cents == 15_000 * 12_000 // 1000
    assert preview.suggestions, "a lighter side with spare channels gets a suggestion"
    own = {toys_wecom.pk, toys_sms.pk}
    assert all(s.channel_id in own for s in preview.suggestions)
    best = preview.suggestions[0]
    assert best.closes_gap and best.value_cents >= preview.balance.gap_cents


def test_suggest_never_offers_a_format_without_a_rate():
    options = [valuation.ChannelOption(1, "sms", "", 1000, 1.0)]
    out = valuation.suggest(gap_cents=10_00, channels=options, rates={("sms", "sms"): (50_00, "message")})
    assert [(s.format, s.quantity) for s in out] == [("sms", 200)]
    assert valuation.suggest(gap_cents=10_00, channels=options, rates={}) == []


# --- the matcher's view -------------------------------------------------------------------------
def test_an_open_proposal_takes_the_pair_out_of_both_recommendation_lists(
    coffee, toys, coffee_actor, toys_actor, coffee_wecom, place
):
    from matching import selectors as matching_selectors
    from matching.exclusions import excluded_open_pairs
    from matching.models import Recommendation

    Recommendation.objects.create(brand=coffee, partner=toys, rank=1, score=0.9, model_version=0)
    Recommendation.objects.create(brand=toys, partner=coffee, rank=1, score=0.9, model_version=0)

    def listed(actor, brand):
        return [r.partner_id for r in matching_selectors.recommendation_list(actor=actor, brand=brand)]

    assert listed(coffee_actor, coffee) == [toys.pk] and listed(toys_actor, toys) == [coffee.pk]
    proposal = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10)]
    )
    assert {(coffee.pk, toys.pk), (toys.pk, coffee.pk)} <= excluded_open_pairs([coffee.pk])
    assert listed(coffee_actor, coffee) == [] and listed(toys_actor, toys) == []
    services.proposal_withdraw(actor=coffee_actor, proposal=proposal)
    assert listed(coffee_actor, coffee) == [toys.pk], "a closed negotiation gives the partner back"


# --- review findings: each guard that was missing ------------------------------------------------
def test_an_expired_proposal_cannot_be_accepted_before_the_sweep_runs(proposed, toys_actor, toys_wecom, place):
    (theirs,) = proposed.revisions.get().placements.all()
    Proposal.objects.filter(pk=proposed.pk).update(expires_at=timezone.now() - timedelta(minutes=50))
    refused(
        E.NOT_OPEN,
        services.proposal_counter,
        actor=toys_actor,
        proposal=proposed,
        revision=1,
        placements=[place(None, 100, based_on=theirs), place(toys_wecom, 100)],
    )


def test_accept_refuses_a_revision_whose_window_has_passed(proposed, coffee_actor, toys_actor, toys_wecom, place):
    (theirs,) = proposed.revisions.get().placements.all()
    services.proposal_counter(
        actor=toys_actor,
        proposal=proposed,
        revision=1,
        placements=[place(None, 100, based_on=theirs), place(toys_wecom, 100)],
    )
    Placement.objects.filter(revision__proposal=proposed).update(
        starts_on=timezone.localdate() - timedelta(days=3), ends_on=timezone.localdate() + timedelta(days=1)
    )
    refused(E.WINDOW_IN_PAST, services.proposal_accept, actor=coffee_actor, proposal=proposed, revision=2)


def test_window_longer_than_the_limit_refused(coffee, toys, coffee_actor, coffee_wecom, place, window, settings):
    settings.EXCHANGE_MAX_WINDOW_DAYS = 5
    refused(
        E.WINDOW_TOO_LONG,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 100, starts_on=window[0], ends_on=window[0] + timedelta(days=5))],
    )


def test_too_many_placements_per_side_refused(coffee, toys, coffee_actor, coffee_wecom, place, settings):
    settings.EXCHANGE_MAX_PLACEMENTS_PER_SIDE = 2
    refused(
        E.TOO_MANY_PLACEMENTS,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 100) for _ in range(3)],
    )


def test_a_placement_without_a_channel_is_required(coffee, toys, coffee_actor, window):
    spec = {"format": "direct_message", "quantity": 10, "starts_on": window[0], "ends_on": window[1]}
    refused(
        E.REQUIRED, services.proposal_create, actor=coffee_actor, brand=coffee, counterparty=toys, placements=[spec]
    )


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "100", True, None])
def test_a_quantity_that_is_not_a_positive_whole_number_is_invalid(
    coffee, toys, coffee_actor, coffee_wecom, place, quantity
):
    refused(
        E.INVALID,
        services.proposal_create,
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, quantity)],
    )


def test_the_other_sides_channel_size_is_never_in_an_error(proposed, coffee, toys, toys_actor, toys_wecom, place):
    (theirs,) = proposed.revisions.get().placements.all()
    preview = services.proposal_preview(
        actor=toys_actor,
        brand=toys,
        counterparty=coffee,
        proposal=proposed,
        placements=[place(None, 10**9, based_on=theirs)],
    )
    (_value, problems) = preview.lines[0]
    assert [(p.field, p.code) for p in problems] == [("quantity", E.REACH_ABOVE_AUDIENCE)]
    assert not any(ch.isdigit() for ch in problems[0].message), problems[0].message


def test_balanced_is_decided_in_integers():
    assert valuation.balance(1000, 900).balanced  # gap exactly 10 %
    assert not valuation.balance(1000, 899).balanced
    assert valuation.quantity_for_value(2**60 + 1, 3, "cpm") == -(-(2**60 + 1) * 1000 // 3)
