"""Disputes: opening (delivery reports and results), answering with evidence, withdrawing, the
hold on settlement, and the admin's decision moving delivered value only through the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from exchange import services
from exchange.errors import ExchangeError as E
from exchange.ledger.rules import delivered_by_brand
from exchange.models import (
    DeliveryReport,
    Dispute,
    DisputeEvidence,
    DomainEvent,
    EventType,
    LedgerTransaction,
    LegDayMetrics,
    Settlement,
    SettlementState,
    TxnReason,
)
from exchange.notices import notice_line
from exchange.services.disputes import DISPUTE_WINDOW_DAYS, counted_value
from exchange.states import DeliveryState, DisputeReason
from exchange.webhooks import FIELDS
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent
from tests.exchange.delivery_support import during, make_live, placement_of, upload
from tests.factories import BrandFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PROOF = "https://mp.weixin.qq.com/s/abc123"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def coffee_report(campaign, coffee) -> DeliveryReport:
    return DeliveryReport.objects.get(campaign=campaign, placement=placement_of(campaign, coffee))


def after(campaign, days=1):
    return campaign.completed_at + timedelta(days=days)


def rollup_value(leg_id) -> int:
    return LegDayMetrics.objects.filter(leg_id=leg_id).aggregate(s=Sum("delivered_value_cents"))["s"] or 0


def rollup_reach(leg_id) -> int:
    return LegDayMetrics.objects.filter(leg_id=leg_id).aggregate(s=Sum("delivered_reach"))["s"] or 0


@pytest.fixture
def outsider_actor(db):
    user = UserFactory()
    MembershipFactory(user=user, brand=BrandFactory(slug="other-brand"), role="owner")
    return Actor(user=user)


# --- the promoted side's delivery_dispute opens a Dispute ------------------------------------
@pytest.fixture
def live_cp(campaign, coffee):
    make_live(campaign)
    return placement_of(campaign, coffee)


def reported(actor, cp, **kw):
    args = {"reach": 18_000, "delivered_at": during(cp), "proof_url": PROOF, "now": during(cp, 30)}
    args.update(kw)
    return services.delivery_report(actor=actor, placement=cp, **args)


def test_delivery_dispute_opens_a_dispute_audited_and_in_the_outbox(live_cp, coffee_actor, toys_actor, coffee, toys):
    r = reported(coffee_actor, live_cp)
    services.delivery_dispute(actor=toys_actor, report=r, reason=DisputeReason.NOT_DELIVERED, now=during(live_cp, 31))
    d = Dispute.objects.get()
    assert (d.subject, d.delivery_report_id, d.opened_by, d.respondent, d.reason, d.state) == (
        "delivery",
        r.pk,
        toys,
        coffee,
        "not_delivered",
        "open",
    )
    assert d.statement == "Not delivered" or d.statement  # the reason's label stands in for an empty note
    assert AuditEvent.objects.filter(action=AuditAction.DISPUTE_OPENED).count() == 2
    (event,) = DomainEvent.objects.filter(type=EventType.DISPUTE_OPENED)
    assert set(event.payload) == set(FIELDS[EventType.DISPUTE_OPENED])
    assert event.payload == {
        "dispute": d.pk,
        "campaign": r.campaign_id,
        "subject": "delivery",
        "report": r.pk,
        "state": "open",
        "reason": "not_delivered",
        "opened_by": "tiny-toys",
        "respondent": "bean-house",
        "outcome": "",
    }
    assert notice_line(event, coffee, "en") == "Tiny Toys opened a dispute in its swap with Bean House"


def test_a_re_report_supersedes_the_open_dispute(live_cp, coffee_actor, toys_actor):
    r = reported(coffee_actor, live_cp)
    services.delivery_dispute(
        actor=toys_actor, report=r, reason=DisputeReason.LATE, note="晚了", now=during(live_cp, 31)
    )
    r2 = reported(coffee_actor, live_cp, reach=15_000, now=during(live_cp, 32))
    d = Dispute.objects.get()
    assert (r2.state, r2.version, d.state) == (DeliveryState.REPORTED, 2, "withdrawn")
    assert "2" in d.decision and d.adjustment == {"superseded_by_version": 2}
    withdrawn = AuditEvent.objects.filter(action=AuditAction.DISPUTE_WITHDRAWN)
    assert withdrawn.count() == 2 and withdrawn.first().data["superseded_by_version"] == 2
    (closed,) = DomainEvent.objects.filter(type=EventType.DISPUTE_RESOLVED)
    assert (closed.payload["state"], closed.payload["outcome"]) == ("withdrawn", "")
    # The new version can be disputed again: a second dispute on the same report.
    services.delivery_dispute(
        actor=toys_actor, report=r2, reason=DisputeReason.LATE, note="还是晚", now=during(live_cp, 33)
    )
    assert Dispute.objects.filter(state="open").count() == 1


def test_dispute_open_on_an_awaiting_report_is_the_promoted_sides_answer(live_cp, coffee_actor, toys_actor):
    r = reported(coffee_actor, live_cp)
    with pytest.raises(ValidationError) as exc:
        services.dispute_open(
            actor=coffee_actor, campaign=r.campaign, subject="delivery", delivery_report=r,
            reason="late", statement="x", now=during(live_cp, 31),
        )  # fmt: skip
    assert codes(exc.value) == {"report": [E.PERMISSION_DENIED]}
    d = services.dispute_open(
        actor=toys_actor, campaign=r.campaign, subject="delivery", delivery_report=r,
        reason="reach_overstated", statement="后台只有一万", evidence=[{"url": "https://example.com/a.png"}],
        now=during(live_cp, 31),
    )  # fmt: skip
    r.refresh_from_db()
    assert r.state == DeliveryState.DISPUTED and d.statement == "后台只有一万"
    assert d.evidence.get().url == "https://example.com/a.png"


# --- opening on a completed campaign ---------------------------------------------------------
def open_on_coffee(campaign, coffee, toys_actor, **kw):
    args = {
        "actor": toys_actor,
        "campaign": campaign,
        "subject": "delivery",
        "delivery_report": coffee_report(campaign, coffee),
        "reason": "reach_overstated",
        "statement": "The screenshot shows 12,000, not 20,000.",
        "now": after(campaign),
    }
    args.update(kw)
    return services.dispute_open(**args)


def test_either_party_disputes_a_confirmed_report_with_files_and_links(completed, coffee, toys, toys_actor):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    d = open_on_coffee(
        campaign,
        coffee,
        toys_actor,
        evidence=[
            {"file": upload(), "note": "后台截图"},
            {"file": SimpleUploadedFile("stats.pdf", PDF, content_type="application/pdf")},
            {"url": "https://example.com/stats", "note": "link"},
        ],
    )
    assert (d.opened_by, d.respondent, d.state) == (toys, coffee, "open")
    files = sorted(e.file.name.rsplit(".", 1)[-1] for e in d.evidence.all() if e.file)
    assert files == ["pdf", "png"]
    assert all("screenshot" not in e.file.name and "stats" not in e.file.name for e in d.evidence.all() if e.file)
    assert coffee_report(campaign, coffee).state == DeliveryState.CONFIRMED  # the report stays confirmed


@pytest.mark.parametrize(
    "evidence",
    [
        [{"file": SimpleUploadedFile("x.png", b"not an image", content_type="image/png")}],
        [{"url": "http://example.com/plain"}],
        [{"url": "https://user:pw@example.com/"}],
        [{"note": "nothing attached"}],
        [{"url": f"https://example.com/{i}"} for i in range(11)],
    ],
)
def test_bad_evidence_is_refused_and_nothing_changes(completed, coffee, toys_actor, evidence):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    with pytest.raises(ValidationError) as exc:
        open_on_coffee(campaign, coffee, toys_actor, evidence=evidence)
    assert codes(exc.value) == {"evidence": [E.EVIDENCE_INVALID]}
    assert not Dispute.objects.exists() and not DisputeEvidence.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="dispute.").exists()


def test_a_too_large_file_is_refused(completed, coffee, toys_actor, settings):
    settings.EXCHANGE_PROOF_MAX_BYTES = 10
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    with pytest.raises(ValidationError) as exc:
        open_on_coffee(campaign, coffee, toys_actor, evidence=[{"file": upload()}])
    assert codes(exc.value) == {"evidence": [E.EVIDENCE_INVALID]}


def test_who_and_when_may_open(completed, coffee, toys_actor, outsider_actor, campaign):
    with pytest.raises(ValidationError) as exc:
        services.dispute_open(
            actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="x"
        )
    assert codes(exc.value) == {"campaign": [E.DISPUTE_WINDOW_CLOSED]}  # not completed yet
    done = completed(coffee_share=1.0, toys_share=0.5)
    with pytest.raises(ValidationError) as exc:
        open_on_coffee(done, coffee, outsider_actor)
    assert codes(exc.value) == {"campaign": [E.NOT_A_PARTY]}
    with pytest.raises(ValidationError) as exc:
        open_on_coffee(done, coffee, toys_actor, now=after(done, DISPUTE_WINDOW_DAYS + 1))
    assert codes(exc.value) == {"campaign": [E.DISPUTE_WINDOW_CLOSED]}
    with pytest.raises(ValidationError) as exc:
        open_on_coffee(done, coffee, toys_actor, statement="  ")
    assert codes(exc.value) == {"statement": [E.REQUIRED]}
    with pytest.raises(ValidationError) as exc:
        open_on_coffee(done, coffee, toys_actor, reason="made_up")
    assert codes(exc.value) == {"reason": [E.INVALID]}
    open_on_coffee(done, coffee, toys_actor)
    with pytest.raises(ValidationError) as exc:
        open_on_coffee(done, coffee, toys_actor)
    assert codes(exc.value) == {"subject": [E.DISPUTE_ALREADY_OPEN]}
    r = services.dispute_open(
        actor=toys_actor, campaign=done, subject="result", reason="figures_wrong", statement="总数不对", now=after(done)
    )
    assert r.subject == "result" and r.delivery_report is None
    with pytest.raises(ValidationError) as exc:
        services.dispute_open(
            actor=toys_actor, campaign=done, subject="result", reason="other", statement="again", now=after(done)
        )
    assert codes(exc.value) == {"subject": [E.DISPUTE_ALREADY_OPEN]}


# --- the two sides ---------------------------------------------------------------------------
def test_the_respondent_answers_once_and_both_add_evidence(completed, coffee, coffee_actor, toys_actor, outsider_actor):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    d = open_on_coffee(campaign, coffee, toys_actor)
    with pytest.raises(ValidationError) as exc:
        services.dispute_answer(actor=toys_actor, dispute=d, answer="我自己回答")
    assert codes(exc.value) == {"dispute": [E.PERMISSION_DENIED]}
    with pytest.raises(ValidationError) as exc:
        services.dispute_answer(actor=coffee_actor, dispute=d, answer="")
    assert codes(exc.value) == {"answer": [E.REQUIRED]}
    d = services.dispute_answer(
        actor=coffee_actor, dispute=d, answer="Our stats say 20,000.", evidence=[{"url": "https://example.com/ours"}]
    )
    assert (d.state, d.answer) == ("answered", "Our stats say 20,000.")
    assert DomainEvent.objects.filter(type=EventType.DISPUTE_ANSWERED, payload__state="answered").count() == 1
    with pytest.raises(ValidationError) as exc:
        services.dispute_answer(actor=coffee_actor, dispute=d, answer="again")
    assert codes(exc.value) == {"dispute": [E.DISPUTE_NOT_OPEN]}
    services.dispute_evidence_add(actor=toys_actor, dispute=d, evidence=[{"url": "https://example.com/more"}])
    with pytest.raises(ValidationError) as exc:
        services.dispute_evidence_add(actor=outsider_actor, dispute=d, evidence=[{"url": "https://example.com/x"}])
    assert codes(exc.value) == {"dispute": [E.NOT_A_PARTY]}
    sides = sorted(DisputeEvidence.objects.filter(dispute=d).values_list("brand__slug", flat=True))
    assert sides == ["bean-house", "tiny-toys"]
    assert AuditEvent.objects.filter(action=AuditAction.DISPUTE_EVIDENCE_ADDED).count() == 2
    (added,) = DomainEvent.objects.filter(type=EventType.DISPUTE_EVIDENCE_ADDED)
    assert (added.payload["side"], added.payload["evidence"]) == ("tiny-toys", 1), "partner systems hear of it"


def test_only_the_opener_withdraws_and_a_disputed_report_awaits_again(live_cp, coffee_actor, toys_actor):
    r = reported(coffee_actor, live_cp)
    services.delivery_dispute(actor=toys_actor, report=r, reason=DisputeReason.LATE, note="晚", now=during(live_cp, 31))
    d = Dispute.objects.get()
    with pytest.raises(ValidationError) as exc:
        services.dispute_withdraw(actor=coffee_actor, dispute=d)
    assert codes(exc.value) == {"dispute": [E.PERMISSION_DENIED]}
    d = services.dispute_withdraw(actor=toys_actor, dispute=d, now=during(live_cp, 32))
    r.refresh_from_db()
    assert (d.state, r.state) == ("withdrawn", DeliveryState.REPORTED)
    assert r.confirm_due_at > during(live_cp, 32)
    services.delivery_confirm(actor=toys_actor, report=r, now=during(live_cp, 33))
    with pytest.raises(ValidationError) as exc:
        services.dispute_withdraw(actor=toys_actor, dispute=d)
    assert codes(exc.value) == {"dispute": [E.DISPUTE_NOT_OPEN]}


def test_an_open_dispute_holds_the_settlement(completed, coffee, toys_actor):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    s = Settlement.objects.get(campaign=campaign)
    d = open_on_coffee(campaign, coffee, toys_actor)
    with pytest.raises(ValidationError) as exc:
        services.settlement_choose(actor=toys_actor, settlement=s, choice="credit")
    assert codes(exc.value) == {"settlement": [E.SETTLEMENT_HELD]}
    assert services.settlements_default(now=s.choose_by + timedelta(days=1)) == 0
    services.dispute_withdraw(actor=toys_actor, dispute=d)
    assert services.settlements_default(now=s.choose_by + timedelta(days=1)) == 1


# --- the decision ----------------------------------------------------------------------------
def test_only_admins_resolve_with_a_written_decision(completed, coffee, toys_actor, admin_actor):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    d = open_on_coffee(campaign, coffee, toys_actor)
    with pytest.raises(ValidationError) as exc:
        services.dispute_resolve(actor=toys_actor, dispute=d, outcome="rejected", decision="no")
    assert codes(exc.value) == {"dispute": [E.PERMISSION_DENIED]}
    with pytest.raises(ValidationError) as exc:
        services.dispute_resolve(actor=admin_actor, dispute=d, outcome="rejected", decision=" ")
    assert codes(exc.value) == {"decision": [E.DECISION_REQUIRED]}
    r = coffee_report(campaign, coffee)
    with pytest.raises(ValidationError) as exc:
        services.dispute_resolve(actor=admin_actor, dispute=d, outcome="rejected", decision="x", adjustments={r.pk: 1})
    assert codes(exc.value) == {"adjustments": [E.INVALID]}
    with pytest.raises(ValidationError) as exc:
        services.dispute_resolve(actor=admin_actor, dispute=d, outcome="upheld", decision="x")
    assert codes(exc.value) == {"adjustments": [E.REQUIRED]}
    other = DeliveryReport.objects.filter(campaign=campaign).exclude(pk=r.pk).first()
    with pytest.raises(ValidationError) as exc:
        services.dispute_resolve(
            actor=admin_actor, dispute=d, outcome="upheld", decision="x", adjustments={other.pk: 1}
        )
    assert codes(exc.value) == {"adjustments": [E.INVALID]}
    with pytest.raises(ValidationError) as exc:
        services.dispute_resolve(actor=admin_actor, dispute=d, outcome="upheld", decision="x", adjustments={r.pk: -1})
    assert codes(exc.value) == {"adjustments": [E.REACH_NEGATIVE]}
    assert Dispute.objects.get(pk=d.pk).state == "open"
    d = services.dispute_resolve(actor=admin_actor, dispute=d, outcome="rejected", decision="截图与后台一致。")
    assert (d.state, d.outcome, d.resolved_by) == ("resolved", "rejected", admin_actor.user)
    assert Settlement.objects.get(campaign=campaign).state == SettlementState.OPEN  # figures stand
    (event,) = DomainEvent.objects.filter(type=EventType.DISPUTE_RESOLVED)
    assert (event.payload["state"], event.payload["outcome"]) == ("resolved", "rejected")


def test_upheld_moves_an_unpaid_settlement_through_reversal_transactions(
    completed, coffee, toys, toys_actor, admin_actor
):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    s = Settlement.objects.get(campaign=campaign)
    r = coffee_report(campaign, coffee)
    leg_id = r.placement.leg_id
    before_value, before_rollup, before_reach = counted_value(r), rollup_value(leg_id), rollup_reach(leg_id)
    before = delivered_by_brand(campaign)
    d = open_on_coffee(campaign, coffee, toys_actor)
    new_reach = int(r.reach * 0.8)
    d = services.dispute_resolve(
        actor=admin_actor, dispute=d, outcome="upheld", decision="后台数据为准", adjustments={r.pk: new_reach}
    )
    new_value = counted_value(r)
    assert 0 < new_value < before_value
    assert delivered_by_brand(campaign)[coffee.pk] == before[coffee.pk] - (before_value - new_value)
    assert rollup_value(leg_id) == before_rollup - (before_value - new_value)
    assert rollup_reach(leg_id) == before_reach - (r.reach - new_reach)
    # Reversal + corrected posting, never an edit.
    assert LedgerTransaction.objects.filter(idempotency_key=f"dispute:{d.pk}:report:{r.pk}:reverse").exists()
    corrected = LedgerTransaction.objects.get(idempotency_key=f"dispute:{d.pk}:report:{r.pk}:corrected")
    assert corrected.reason == TxnReason.DELIVERY_ADJUSTMENT
    s2 = Settlement.objects.get(pk=s.pk)
    assert s2.state == SettlementState.OPEN and s2.gap_value_cents == s.gap_value_cents - (before_value - new_value)
    assert d.adjustment["reports"][str(r.pk)]["after"] == {"reach": new_reach, "value_cents": new_value}
    assert d.adjustment["settlement"]["gap_value_cents"] == s2.gap_value_cents
    assert AuditEvent.objects.filter(action=AuditAction.DISPUTE_RESOLVED).count() == 2
    # A second decision on the same report corrects the correction.
    d2 = open_on_coffee(campaign, coffee, toys_actor)
    services.dispute_resolve(
        actor=admin_actor, dispute=d2, outcome="upheld", decision="再次核对", adjustments={r.pk: new_reach // 2}
    )
    assert rollup_reach(leg_id) == before_reach - (r.reach - new_reach // 2)
    assert rollup_value(leg_id) == before_rollup - (before_value - counted_value(r))


def test_a_gap_brought_within_the_tolerance_voids_the_settlement(completed, coffee, toys, toys_actor, admin_actor):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    s = Settlement.objects.get(campaign=campaign)
    d = services.dispute_open(
        actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong",
        statement="Bean House's group broadcast never ran.", now=after(campaign),
    )  # fmt: skip
    coffee_reports = DeliveryReport.objects.filter(campaign=campaign, placement__leg__promoter=coffee)
    delivered = delivered_by_brand(campaign)
    share = delivered[toys.pk] / delivered[coffee.pk]  # what brings the two sides level
    adjustments = {r.pk: int(r.reach * share) for r in coffee_reports}
    services.dispute_resolve(
        actor=admin_actor, dispute=d, outcome="upheld", decision="两边都只交付一半", adjustments=adjustments
    )
    s.refresh_from_db()
    assert s.state == SettlementState.VOID and s.cash_cents == 0
    assert AuditEvent.objects.filter(action=AuditAction.SETTLEMENT_VOIDED).count() == 2


def test_a_gap_raised_above_the_tolerance_opens_a_settlement(completed, coffee, toys, coffee_actor, admin_actor):
    campaign = completed(coffee_share=0.9, toys_share=1.0)
    assert not Settlement.objects.filter(campaign=campaign).exists()
    toys_report = DeliveryReport.objects.get(campaign=campaign, placement__leg__promoter=toys)
    d = services.dispute_open(
        actor=coffee_actor, campaign=campaign, subject="delivery", delivery_report=toys_report,
        reason="wrong_audience", statement="发给了错误的人群", now=after(campaign),
    )  # fmt: skip
    assert (d.opened_by, d.respondent) == (coffee, toys)
    services.dispute_resolve(
        actor=admin_actor,
        dispute=d,
        outcome="upheld",
        decision="一半无效",
        adjustments={toys_report.pk: toys_report.reach // 2},
    )
    s = Settlement.objects.get(campaign=campaign)
    assert (s.payer, s.payee, s.state) == (toys, coffee, SettlementState.OPEN)


def test_deciding_a_disputed_report_confirms_it_at_the_decided_reach(live_cp, coffee_actor, toys_actor, admin_actor):
    r = reported(coffee_actor, live_cp)
    services.delivery_dispute(actor=toys_actor, report=r, reason=DisputeReason.REACH_OVERSTATED, note="少",
                              now=during(live_cp, 31))  # fmt: skip
    d = Dispute.objects.get()
    assert not LedgerTransaction.objects.filter(reason=TxnReason.DELIVERY).exists()
    services.dispute_resolve(
        actor=admin_actor, dispute=d, outcome="upheld", decision="按一万计", adjustments={r.pk: 10_000}
    )
    r.refresh_from_db()
    assert r.state == DeliveryState.CONFIRMED and r.reach == 18_000  # the claim is kept, the decision counts
    assert r.placement.delivery_confirmed_at is not None
    txn = LedgerTransaction.objects.get(reason=TxnReason.DELIVERY)
    assert txn.data["value_cents"] == counted_value(r) > 0
    assert rollup_reach(r.placement.leg_id) == 10_000


def test_rejecting_a_disputed_report_confirms_it_as_reported(live_cp, coffee_actor, toys_actor, admin_actor):
    r = reported(coffee_actor, live_cp)
    services.delivery_dispute(actor=toys_actor, report=r, reason=DisputeReason.LATE, note="晚", now=during(live_cp, 31))
    services.dispute_resolve(actor=admin_actor, dispute=Dispute.objects.get(), outcome="rejected", decision="按时")
    r.refresh_from_db()
    assert r.state == DeliveryState.CONFIRMED
    assert rollup_reach(r.placement.leg_id) == 18_000


def test_the_reach_each_report_counts_is_the_latest_decisions_for_all_reports_at_once(
    completed, coffee, toys_actor, admin_actor
):
    from exchange.services.disputes import counted_reach, counted_reaches

    campaign = completed(coffee_share=1.0, toys_share=1.0)
    reports = list(DeliveryReport.objects.filter(campaign=campaign, state=DeliveryState.CONFIRMED).order_by("pk"))
    first, last = reports[0], reports[-1]
    for share in (0.5, 0.8):  # two decisions on the same report: the later one counts
        d = services.dispute_open(
            actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="核对曝光"
        )
        services.dispute_resolve(
            actor=admin_actor,
            dispute=d,
            outcome="upheld",
            decision="按后台数据调整。",
            adjustments={first.pk: int(first.reach * share)},
        )
    counted = counted_reaches(campaign.pk, reports)
    assert counted[first.pk] == int(first.reach * 0.8) == counted_reach(first)
    assert counted[last.pk] == last.reach == counted_reach(last)
    assert counted == {r.pk: counted_reach(r) for r in reports}
