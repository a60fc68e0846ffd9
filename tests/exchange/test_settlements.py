"""Settlement at completion: the gap, the tolerance, the payer's choice, the default to credit
and traffic credit paid down by a later swap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from exchange import services
from exchange.ledger.posting import account
from exchange.ledger.rules import delivered_by_brand
from exchange.models import AccountKind, DomainEvent, EventType, Settlement, SettlementState

pytestmark = pytest.mark.django_db


def credit(brand) -> int:
    return account(brand=brand, kind=AccountKind.TRAFFIC_CREDIT).balance_cents


def test_confirmed_deliveries_post_their_value_to_the_ledger(completed, coffee, toys):
    campaign = completed(coffee_share=1.0, toys_share=1.0)
    delivered = delivered_by_brand(campaign)
    promised = {b.pk: sum(p.value_cents for p in campaign.revision.placements.filter(brand=b)) for b in (coffee, toys)}
    assert delivered == promised
    assert account(brand=coffee, kind=AccountKind.VALUE_DELIVERED).balance_cents == -promised[coffee.pk]
    assert account(brand=coffee, kind=AccountKind.VALUE_RECEIVED).balance_cents == promised[toys.pk]


def test_a_gap_above_the_tolerance_opens_a_settlement_for_the_lighter_side(completed, coffee, toys):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    s = Settlement.objects.get(campaign=campaign)
    delivered = delivered_by_brand(campaign)
    gap = delivered[coffee.pk] - delivered[toys.pk]
    assert (s.payer, s.payee, s.gap_value_cents, s.state) == (toys, coffee, gap, SettlementState.OPEN)
    assert s.cash_cents == gap and s.fee_cents == (gap * 300 * 2 + 10_000) // 20_000  # 1:1 and 3 %
    assert credit(toys) == gap and credit(coffee) == -gap
    assert DomainEvent.objects.filter(type=EventType.SETTLEMENT_OPENED, payload__settlement=s.pk).exists()


def test_a_gap_within_the_tolerance_opens_nothing(completed, coffee, toys):
    services.settlement_policy()  # defaults: 10 %
    campaign = completed(coffee_share=0.9, toys_share=1.0)  # ¥2,520 against ¥2,400: 4.8 %
    delivered = delivered_by_brand(campaign)
    gap = abs(delivered[coffee.pk] - delivered[toys.pk])
    assert gap * 100 <= 10 * max(delivered.values())
    assert not Settlement.objects.filter(campaign=campaign).exists()
    assert credit(toys) == 0


def test_the_payer_chooses_credit_and_the_debt_stays(completed, coffee, toys, toys_actor, coffee_actor):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    s = Settlement.objects.get(campaign=campaign)
    with pytest.raises(ValidationError) as err:
        services.settlement_choose(actor=coffee_actor, settlement=s, choice="credit")
    assert err.value.error_dict["settlement"][0].code == "permission_denied"
    s = services.settlement_choose(actor=toys_actor, settlement=s, choice="credit")
    assert s.state == SettlementState.CREDITED and credit(toys) == s.gap_value_cents
    with pytest.raises(ValidationError) as err:
        services.settlement_choose(actor=toys_actor, settlement=s, choice="credit")
    assert err.value.error_dict["settlement"][0].code == "settlement_not_open"


def test_cash_is_refused_without_stripe_keys(completed, toys_actor, settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = ""
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    with pytest.raises(ValidationError) as err:
        services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    assert err.value.error_dict["choice"][0].code == "cash_unavailable"
    assert Settlement.objects.get(pk=s.pk).state == SettlementState.OPEN


def test_an_unchosen_settlement_defaults_to_credit_on_its_deadline(completed, toys):
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    assert services.settlements_default(now=s.choose_by - timedelta(seconds=1)) == 0
    assert services.settlements_default(now=s.choose_by) == 1
    s.refresh_from_db()
    assert (s.state, s.defaulted) == (SettlementState.CREDITED, True)
    assert DomainEvent.objects.filter(type=EventType.SETTLEMENT_CREDITED, payload__defaulted=True).exists()
    assert services.settlements_default(now=s.choose_by + timedelta(days=1)) == 0


def test_policy_changes_are_for_admins_and_validated(admin_actor, toys_actor):
    with pytest.raises(ValidationError):
        services.settlement_policy_set(
            actor=toys_actor, tolerance_percent=5, cash_per_100_value=80, fee_basis_points=200, choose_within_days=5
        )
    with pytest.raises(ValidationError) as err:
        services.settlement_policy_set(
            actor=admin_actor, tolerance_percent=101, cash_per_100_value=80, fee_basis_points=200, choose_within_days=5
        )
    assert "tolerance_percent" in err.value.error_dict
    p = services.settlement_policy_set(
        actor=admin_actor, tolerance_percent=5, cash_per_100_value=80, fee_basis_points=200, choose_within_days=5
    )
    assert (p.tolerance_percent, p.cash_per_100_value) == (5, 80)


def test_a_completed_campaign_is_recorded_for_the_matcher_with_the_new_members_per_side(
    campaign, coffee, toys, coffee_actor, toys_actor
):
    from exchange.services.rollups import rollup_add
    from matching.models import Outcome
    from tests.fixtures_ledger import report_and_confirm

    services.campaigns_advance(now=campaign.starts_at)
    campaign.refresh_from_db()
    report_and_confirm(campaign, coffee, coffee_actor, toys_actor, 1.0, now=campaign.ends_at + timedelta(hours=1))
    report_and_confirm(campaign, toys, toys_actor, coffee_actor, 1.0, now=campaign.ends_at + timedelta(hours=1))
    for leg in campaign.legs.all():  # 7 new members for Tiny Toys, 3 for Bean House
        rollup_add({(leg.pk, campaign.starts_at.date()): {"new_members": 7 if leg.promoted_id == toys.pk else 3}})
    assert services.campaigns_advance(now=campaign.ends_at + timedelta(days=8)).completed == 1
    outcome = Outcome.objects.get(key=f"exchange:campaign:{campaign.pk}:completed")
    assert (outcome.brand_a_id, outcome.brand_b_id, outcome.outcome) == (coffee.pk, toys.pk, "completed")
    assert (outcome.a_new_members, outcome.b_new_members) == (3, 7)


def test_traffic_credit_is_paid_down_by_a_later_swap_in_which_the_debtor_delivers_more(
    completed, coffee, toys, toys_actor, toys_wecom, place, window
):
    from exchange.models import Campaign
    from partners.actors import Actor
    from partners.models import ChannelType, Role
    from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category
    from tests.fixtures_ledger import report_and_confirm

    first = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    services.settlement_choose(actor=toys_actor, settlement=first, choice="credit")
    debt = credit(toys)
    assert debt == first.gap_value_cents > 0

    # Tiny Toys swaps with a pet brand and delivers everything; the pet brand delivers half.
    tea = BrandFactory(slug="paw-pals", name="毛孩子", name_en="Paw Pals", category=category("pets"))
    tea_wecom = ChannelFactory(brand=tea, type=ChannelType.WECOM, size=100_000, active_rate=0.5)
    tea_actor = Actor(user=MembershipFactory(brand=tea, user=UserFactory(), role=Role.OWNER).user)
    proposal = services.proposal_create(
        actor=toys_actor, brand=toys, counterparty=tea, placements=[place(toys_wecom, 20_000)]
    )
    mine = proposal.revisions.get().placements.get()
    services.proposal_counter(
        actor=tea_actor,
        proposal=proposal,
        revision=1,
        placements=[place(None, mine.quantity, based_on=mine), place(tea_wecom, 20_000)],
    )
    services.proposal_accept(actor=toys_actor, proposal=proposal, revision=2)
    second = Campaign.objects.get(proposal=proposal)
    services.campaigns_advance(now=second.starts_at)
    second.refresh_from_db()
    report_and_confirm(second, toys, toys_actor, tea_actor, 1.0, now=second.ends_at + timedelta(hours=1))
    report_and_confirm(second, tea, tea_actor, toys_actor, 0.5, now=second.ends_at + timedelta(hours=1))
    services.campaigns_advance(now=second.ends_at + timedelta(days=8))

    surplus = Settlement.objects.get(campaign=second)  # the pet brand owes this one
    assert (surplus.payer, surplus.payee) == (tea, toys)
    assert credit(toys) == debt - surplus.gap_value_cents, "Tiny Toys' debt is paid down by its surplus"
    assert credit(tea) == surplus.gap_value_cents
    assert credit(coffee) == -debt, "Bean House is still owed what Tiny Toys owed it"


def test_a_decision_that_swaps_the_sides_gives_the_new_payer_its_own_choice(
    completed, coffee, toys, toys_actor, admin_actor, settings
):
    from exchange.models import DeliveryReport

    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_test_x", "pk_test_x"
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    s = Settlement.objects.get(campaign=campaign)
    services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    d = services.dispute_open(
        actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="咖啡一方只送达一成"
    )
    cut = {
        r.pk: r.reach // 10 for r in DeliveryReport.objects.filter(campaign=campaign, placement__leg__promoter=coffee)
    }
    services.dispute_resolve(actor=admin_actor, dispute=d, outcome="upheld", decision="按一成计", adjustments=cut)
    s.refresh_from_db()
    assert s.payer_id == coffee.pk
    assert (s.state, s.choice, s.chosen_by_id) == (SettlementState.OPEN, "", None)
    changes = [(e.type, e.payload.get("change"), e.payload["payer"]) for e in _settlement_events()]
    assert changes == [
        ("settlement.opened", None, toys.slug),
        ("settlement.updated", "cash_chosen", toys.slug),
        ("settlement.opened", "reopened", coffee.slug),  # partner systems learn the new payer
    ]


def test_a_voided_settlement_opens_again_when_a_later_decision_brings_the_gap_back(
    completed, coffee, toys, toys_actor, admin_actor
):
    from exchange.models import DeliveryReport

    campaign = completed(coffee_share=1.0, toys_share=0.5)
    s = Settlement.objects.get(campaign=campaign)
    reports = list(DeliveryReport.objects.filter(campaign=campaign, placement__leg__promoter=coffee))
    delivered = delivered_by_brand(campaign)
    share = delivered[toys.pk] / delivered[coffee.pk]
    first = services.dispute_open(
        actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="实际送达与我方相当"
    )
    services.dispute_resolve(
        actor=admin_actor,
        dispute=first,
        outcome="upheld",
        decision="按后台数据",
        adjustments={r.pk: int(r.reach * share) for r in reports},
    )
    s.refresh_from_db()
    assert s.state == SettlementState.VOID
    voided = _settlement_events()[-1]
    assert (voided.type, voided.payload["change"], voided.payload["state"]) == ("settlement.updated", "voided", "void")
    second = services.dispute_open(
        actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="补充证据"
    )
    services.dispute_resolve(
        actor=admin_actor,
        dispute=second,
        outcome="upheld",
        decision="恢复原数据",
        adjustments={r.pk: r.reach for r in reports},
    )
    s.refresh_from_db()
    assert s.state == SettlementState.OPEN and s.payer_id == toys.pk and s.gap_value_cents > 0
    assert account(brand=toys, kind=AccountKind.TRAFFIC_CREDIT).balance_cents == s.gap_value_cents
    assert _settlement_events()[-1].payload.get("change") == "reopened"


def _settlement_events():
    return list(DomainEvent.objects.filter(type__startswith="settlement.").order_by("pk"))


def test_a_decision_that_moves_the_figures_tells_both_sides_in_the_outbox(
    completed, coffee, toys, toys_actor, admin_actor
):
    from exchange.models import DeliveryReport

    campaign = completed(coffee_share=1.0, toys_share=0.3)
    s = Settlement.objects.get(campaign=campaign)
    before = s.gap_value_cents
    d = services.dispute_open(
        actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="咖啡一方少了一成"
    )
    cut = {
        r.pk: r.reach * 9 // 10
        for r in DeliveryReport.objects.filter(campaign=campaign, placement__leg__promoter=coffee)
    }
    services.dispute_resolve(actor=admin_actor, dispute=d, outcome="upheld", decision="按九成计", adjustments=cut)
    s.refresh_from_db()
    assert s.payer_id == toys.pk and 0 < s.gap_value_cents < before
    last = _settlement_events()[-1]
    assert (last.type, last.payload["change"]) == ("settlement.updated", "figures_changed")
    assert last.payload["gap_value_cents"] == s.gap_value_cents and sorted(last.brand_ids) == sorted(
        [coffee.pk, toys.pk]
    )


def test_settlement_notices_tell_the_payer_what_to_do_and_keep_the_decline_reason_to_it(completed, coffee, toys):
    from exchange.notices import notice_line
    from exchange.services.settlements import settlement_event

    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    opened = DomainEvent.objects.filter(type=EventType.SETTLEMENT_OPENED).latest("pk")
    assert "choose cash or traffic credit" in notice_line(opened, toys, "en")
    assert "choose" not in notice_line(opened, coffee, "en")
    settlement_event(
        s,
        EventType.SETTLEMENT_FAILED,
        None,
        failure_code="insufficient_funds",
        failure_message="Your card has insufficient funds.",
    )
    failed = DomainEvent.objects.filter(type=EventType.SETTLEMENT_FAILED).latest("pk")
    # The payer reads the decline in its own language (Stripe's code, not its English words).
    assert "The card has insufficient funds." in notice_line(failed, toys, "en")
    assert "余额不足" in notice_line(failed, toys, "zh-hans") and "未成功" in notice_line(failed, toys, "zh-hans")
    assert "insufficient" not in notice_line(failed, coffee, "en") and "did not go through" in notice_line(
        failed, coffee, "en"
    )
    # A code without a text of ours shows Stripe's own message.
    settlement_event(
        s, EventType.SETTLEMENT_FAILED, None, failure_code="velocity_exceeded", failure_message="Slow down."
    )
    odd = DomainEvent.objects.filter(type=EventType.SETTLEMENT_FAILED).latest("pk")
    assert "Slow down." in notice_line(odd, toys, "en")


def test_balanced_means_within_the_admins_settlement_tolerance_everywhere(admin_actor):
    from exchange import selectors, valuation
    from exchange.services.settlements import settlement_policy, settlement_policy_set

    p = settlement_policy()
    # A 12% gap: unbalanced at the default 10%, balanced once the admin allows 15%.
    assert selectors.tolerance_percent() == 10
    assert not valuation.balance(88_000, 100_000, tolerance_percent=selectors.tolerance_percent()).balanced
    settlement_policy_set(
        actor=admin_actor,
        tolerance_percent=15,
        cash_per_100_value=p.cash_per_100_value,
        fee_basis_points=p.fee_basis_points,
        choose_within_days=p.choose_within_days,
    )
    assert selectors.tolerance_percent() == 15, "the cached value is dropped when the policy is saved"
    assert valuation.balance(88_000, 100_000, tolerance_percent=selectors.tolerance_percent()).balanced
