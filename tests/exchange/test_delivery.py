"""Delivery reports: the promoter reports reach, time and proof per placement; the promoted side
confirms or disputes within the window; silence confirms (beat). Confirmation feeds the leg's
rollups and the completion rule; a disputed or unanswered report holds the campaign open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from exchange import services
from exchange.errors import ExchangeError as E
from exchange.models import DeliveryReport, DomainEvent, EventType, LegDayMetrics
from exchange.notices import notice_line
from exchange.services.rollups import day_of
from exchange.states import CampaignState, DeliveryState, DisputeReason
from exchange.valuation import placement_value
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent, Role
from tests.exchange.delivery_support import during, image_bytes, make_live, placement_of, upload
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PROOF = "https://mp.weixin.qq.com/s/abc123"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def live(campaign):
    make_live(campaign)
    return campaign


@pytest.fixture
def cp(live, coffee):
    """Bean House's WeCom message (20,000 reach promised), promoting Tiny Toys."""
    return placement_of(live, coffee)


def report(actor, cp, **kw):
    args = {"reach": 18_000, "delivered_at": during(cp), "proof_url": PROOF, "now": during(cp, 30)}
    args.update(kw)
    return services.delivery_report(actor=actor, placement=cp, **args)


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


def nothing_changed():
    assert not DeliveryReport.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="delivery.").exists()
    assert not DomainEvent.objects.filter(type__startswith="delivery.").exists()


# --- reporting -------------------------------------------------------------------------------
def test_the_promoter_reports_a_delivery_with_a_link_for_both_sides_to_see(cp, coffee_actor, live, settings):
    settings.EXCHANGE_DELIVERY_CONFIRM_DAYS = 5
    now = during(cp, 30)
    r = report(coffee_actor, cp, note="第一条推送")
    assert (r.state, r.reach, r.proof_url, r.note, r.version) == (
        DeliveryState.REPORTED,
        18_000,
        PROOF,
        "第一条推送",
        1,
    )
    assert r.confirm_due_at == now + timedelta(days=5)
    assert r.reported_by == coffee_actor.user and r.campaign == live
    audits = AuditEvent.objects.filter(action=AuditAction.DELIVERY_REPORTED)
    assert {a.brand_id for a in audits} == {live.brand_a_id, live.brand_b_id}
    assert audits[0].data["reach"] == 18_000 and audits[0].data["proof_url"] == PROOF
    (event,) = DomainEvent.objects.filter(type=EventType.DELIVERY_REPORTED)
    assert event.actor_brand_id == cp.leg.promoter_id
    assert event.payload["report"] == r.pk and event.payload["promised"] == 20_000
    assert event.payload["campaign"] == live.pk and event.payload["promoted"] == "tiny-toys"
    cp.refresh_from_db()
    assert cp.delivery_confirmed_at is None  # not confirmed yet: rollups untouched
    assert not LegDayMetrics.objects.filter(delivered_reach__gt=0).exists()


def test_a_proof_image_is_validated_by_content_and_kept_in_storage(cp, coffee_actor):
    r = report(coffee_actor, cp, proof_url="", proof_image=upload("x.webp", image_bytes("JPEG")))
    assert r.proof_image.name.startswith(f"delivery-proofs/{r.campaign_id}/") and r.proof_image.name.endswith(".jpg")
    assert "x.webp" not in r.proof_image.name  # the uploaded name is never used
    with r.proof_image.open("rb") as f:
        assert f.read() == image_bytes("JPEG")


@pytest.mark.parametrize(
    "content",
    [b"just some text, renamed", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, image_bytes("GIF")],
    ids=["text-renamed-png", "png-signature-only", "gif"],
)
def test_a_file_that_is_not_a_png_jpeg_or_webp_image_is_refused(cp, coffee_actor, content):
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, proof_url="", proof_image=upload("proof.png", content))
    assert codes(exc.value) == {"proof_image": [E.PROOF_NOT_IMAGE]}
    nothing_changed()


def test_an_oversize_image_is_refused(cp, coffee_actor, settings, tmp_path):
    settings.EXCHANGE_PROOF_MAX_BYTES = 1000
    big = image_bytes("PNG", size=(40, 40), noisy=True)
    assert len(big) > 1000
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, proof_url="", proof_image=upload("big.png", big))
    assert codes(exc.value) == {"proof_image": [E.PROOF_TOO_LARGE]}
    assert "MB" in exc.value.error_dict["proof_image"][0].message
    nothing_changed()
    assert not list(tmp_path.rglob("*.png")), "nothing stored"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"reach": -1}, {"reach": [E.REACH_NEGATIVE]}),
        ({"reach": 60_001}, {"reach": [E.REACH_ABOVE_PROMISED]}),  # 3 × 20,000 promised
        ({"reach": "lots"}, {"reach": [E.INVALID]}),
        ({"delivered_at": "yesterday"}, {"delivered_at": [E.INVALID]}),
        ({"proof_url": ""}, {"proof_image": [E.PROOF_REQUIRED]}),
        ({"proof_url": "http://mp.weixin.qq.com/s/abc"}, {"proof_url": [E.PROOF_URL_NOT_HTTPS]}),
        ({"proof_url": "javascript:alert(1)"}, {"proof_url": [E.PROOF_URL_NOT_HTTPS]}),
        ({"proof_url": "https://"}, {"proof_url": [E.PROOF_URL_INVALID]}),
        ({"proof_url": "https://u:p@example.com/x"}, {"proof_url": [E.PROOF_URL_INVALID]}),
        ({"proof_url": "https://example.com/" + "a" * 500}, {"proof_url": [E.PROOF_URL_INVALID]}),
        ({"note": "x" * 2001}, {"note": [E.NOTE_TOO_LONG]}),
        ({"reach": -5, "proof_url": "ftp://x"}, {"reach": [E.REACH_NEGATIVE], "proof_url": [E.PROOF_URL_NOT_HTTPS]}),
    ],
)
def test_bad_figures_are_refused_with_their_code_and_nothing_changes(cp, coffee_actor, kwargs, expected):
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, **kwargs)
    assert codes(exc.value) == expected
    nothing_changed()


def test_the_reach_cap_follows_the_setting_and_says_the_figures(cp, coffee_actor, settings):
    settings.EXCHANGE_DELIVERY_REACH_CAP_MULTIPLE = 2
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, reach=40_001)
    message = exc.value.error_dict["reach"][0].message
    assert "40,001" in message and "20,000" in message and "40,000" in message
    assert report(coffee_actor, cp, reach=40_000).reach == 40_000


def test_the_delivery_time_must_be_near_the_window_and_not_in_the_future(cp, coffee_actor, settings):
    settings.EXCHANGE_DELIVERY_WINDOW_GRACE_DAYS = 1
    late = cp.ends_at + timedelta(days=1, seconds=1)
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, delivered_at=late, now=late + timedelta(hours=1))
    assert codes(exc.value) == {"delivered_at": [E.DELIVERED_OUTSIDE_WINDOW]}
    early = cp.starts_at - timedelta(days=1, seconds=1)
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, delivered_at=early)
    assert codes(exc.value) == {"delivered_at": [E.DELIVERED_OUTSIDE_WINDOW]}
    now = during(cp, 30)
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, delivered_at=now + timedelta(hours=1), now=now)
    assert codes(exc.value) == {"delivered_at": [E.DELIVERED_IN_FUTURE]}
    nothing_changed()
    assert report(coffee_actor, cp, delivered_at=cp.ends_at + timedelta(hours=20), now=cp.ends_at + timedelta(days=2))


def test_only_the_promoters_editors_and_write_keys_report(cp, coffee, toys_actor, admin_actor):
    from partners.services import api_key_create

    viewer = MembershipFactory(brand=coffee, role=Role.VIEWER, user=UserFactory()).user
    owner = coffee.memberships.get(role=Role.OWNER).user
    read_key, _ = api_key_create(actor=Actor(user=owner), brand=coffee, name="read", scopes=["read"])
    for actor in (toys_actor, admin_actor, Actor(user=viewer), Actor(api_key=read_key), Actor()):
        with pytest.raises(ValidationError) as exc:
            report(actor, cp)
        assert codes(exc.value) == {"placement": [E.PERMISSION_DENIED]}, actor
    nothing_changed()
    write_key, _ = api_key_create(actor=Actor(user=owner), brand=coffee, name="write", scopes=["read", "write"])
    r = report(Actor(api_key=write_key), cp)
    assert r.reported_by_key == write_key and r.reported_by is None


def test_a_scheduled_campaign_takes_no_report(campaign, coffee, coffee_actor):
    cp = placement_of(campaign, coffee)
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, now=cp.starts_at - timedelta(hours=1), delivered_at=cp.starts_at - timedelta(hours=2))
    assert codes(exc.value) == {"placement": [E.CAMPAIGN_NOT_RUNNING]}
    nothing_changed()


def test_a_re_report_while_disputed_replaces_the_figures_and_restarts_the_window(cp, coffee_actor, toys_actor):
    first = report(coffee_actor, cp, reach=30_000, proof_image=upload())
    services.delivery_dispute(
        actor=toys_actor,
        report=first,
        reason=DisputeReason.REACH_OVERSTATED,
        note="后台只看到 1.2 万",
        now=during(cp, 40),
    )
    later = during(cp, 50)
    second = report(coffee_actor, cp, reach=12_000, proof_url="", note="更正", now=later)
    assert second.pk == first.pk and second.version == 2
    assert (second.state, second.reach, second.note) == (DeliveryState.REPORTED, 12_000, "更正")
    assert second.dispute_reason == "" and second.disputed_at is None
    assert second.confirm_due_at == later + timedelta(days=7)
    assert second.proof_image.name == first.proof_image.name, "the earlier proof stays when no new one is given"
    history = AuditEvent.objects.filter(action=AuditAction.DELIVERY_REPORTED, brand=cp.leg.promoter).order_by("pk")
    assert [(a.data["version"], a.data["reach"]) for a in history] == [(1, 30_000), (2, 12_000)]
    assert DeliveryReport.objects.count() == 1


def test_a_confirmed_report_cannot_be_replaced(cp, coffee_actor, toys_actor):
    r = report(coffee_actor, cp)
    services.delivery_confirm(actor=toys_actor, report=r, now=during(cp, 31))
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, reach=1, now=during(cp, 32))
    assert codes(exc.value) == {"placement": [E.DELIVERY_ALREADY_CONFIRMED]}
    r.refresh_from_db()
    assert (r.reach, r.version) == (18_000, 1)


def test_no_correction_once_the_answer_window_has_passed(cp, coffee_actor):
    r = report(coffee_actor, cp)
    with pytest.raises(ValidationError) as exc:
        report(coffee_actor, cp, reach=1, now=r.confirm_due_at)
    assert codes(exc.value) == {"placement": [E.CONFIRM_WINDOW_CLOSED]}
    r.refresh_from_db()
    assert (r.reach, r.version) == (18_000, 1)


# --- confirming and disputing ----------------------------------------------------------------
def test_confirming_feeds_the_legs_rollup_and_the_completion_seam(cp, coffee_actor, toys_actor, toys):
    r = report(coffee_actor, cp)
    at = during(cp, 31)
    done = services.delivery_confirm(actor=toys_actor, report=r, now=at)
    assert (done.state, done.confirmed_at, done.confirmed_by, done.auto_confirmed) == (
        DeliveryState.CONFIRMED,
        at,
        toys_actor.user,
        False,
    )
    cp.refresh_from_db()
    assert cp.delivery_confirmed_at == at
    row = LegDayMetrics.objects.get(leg=cp.leg, day=day_of(r.delivered_at))
    value = placement_value(18_000, cp.placement.rate_cents, cp.placement.unit)
    assert (row.delivered_reach, row.delivered_value_cents) == (18_000, value) and value > 0
    (event,) = DomainEvent.objects.filter(type=EventType.DELIVERY_CONFIRMED)
    assert event.actor_brand_id == toys.pk
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY_CONFIRMED).count() == 2
    with pytest.raises(ValidationError) as exc:
        services.delivery_confirm(actor=toys_actor, report=r, now=at)
    assert codes(exc.value) == {"report": [E.DELIVERY_ALREADY_CONFIRMED]}
    row.refresh_from_db()
    assert row.delivered_reach == 18_000, "counted once"


def test_only_the_promoted_side_answers(cp, coffee_actor, admin_actor, toys):
    r = report(coffee_actor, cp)
    viewer = MembershipFactory(brand=toys, role=Role.VIEWER, user=UserFactory()).user
    for actor in (coffee_actor, admin_actor, Actor(user=viewer), Actor()):
        for answer in (
            lambda a: services.delivery_confirm(actor=a, report=r, now=during(cp, 31)),
            lambda a: services.delivery_dispute(actor=a, report=r, reason="late", now=during(cp, 31)),
        ):
            with pytest.raises(ValidationError) as exc:
                answer(actor)
            assert codes(exc.value) == {"report": [E.PERMISSION_DENIED]}
    r.refresh_from_db()
    assert r.state == DeliveryState.REPORTED
    assert not DomainEvent.objects.filter(type__in=[EventType.DELIVERY_CONFIRMED, EventType.DELIVERY_DISPUTED]).exists()


def test_no_answer_after_the_window(cp, coffee_actor, toys_actor):
    r = report(coffee_actor, cp)
    for answer in (
        lambda: services.delivery_confirm(actor=toys_actor, report=r, now=r.confirm_due_at),
        lambda: services.delivery_dispute(actor=toys_actor, report=r, reason="late", now=r.confirm_due_at),
    ):
        with pytest.raises(ValidationError) as exc:
            answer()
        assert codes(exc.value) == {"report": [E.CONFIRM_WINDOW_CLOSED]}
    r.refresh_from_db()
    assert r.state == DeliveryState.REPORTED


@pytest.mark.parametrize(
    ("reason", "note", "expected"),
    [
        ("", "", {"reason": [E.REQUIRED]}),
        ("made_up", "", {"reason": [E.INVALID]}),
        (DisputeReason.OTHER, "  ", {"note": [E.REASON_REQUIRED]}),
        (DisputeReason.LATE, "x" * 2001, {"note": [E.NOTE_TOO_LONG]}),
    ],
)
def test_a_dispute_needs_a_listed_reason_and_a_note_for_other(cp, coffee_actor, toys_actor, reason, note, expected):
    r = report(coffee_actor, cp)
    with pytest.raises(ValidationError) as exc:
        services.delivery_dispute(actor=toys_actor, report=r, reason=reason, note=note, now=during(cp, 31))
    assert codes(exc.value) == expected
    r.refresh_from_db()
    assert r.state == DeliveryState.REPORTED
    assert not DomainEvent.objects.filter(type=EventType.DELIVERY_DISPUTED).exists()


def test_a_dispute_is_recorded_for_both_sides_and_blocks_confirmation(cp, coffee_actor, toys_actor, coffee, toys):
    r = report(coffee_actor, cp)
    at = during(cp, 31)
    disputed = services.delivery_dispute(
        actor=toys_actor, report=r, reason=DisputeReason.NOT_DELIVERED, note="群里没看到", now=at
    )
    assert (disputed.state, disputed.dispute_reason, disputed.dispute_note, disputed.disputed_at) == (
        DeliveryState.DISPUTED,
        "not_delivered",
        "群里没看到",
        at,
    )
    assert AuditEvent.objects.filter(action=AuditAction.DELIVERY_DISPUTED).count() == 2
    (event,) = DomainEvent.objects.filter(type=EventType.DELIVERY_DISPUTED)
    assert event.payload["dispute_reason"] == "not_delivered" and event.actor_brand_id == toys.pk
    assert notice_line(event, coffee, "en") == "Tiny Toys disputed a delivery in its swap with Bean House"
    with pytest.raises(ValidationError) as exc:
        services.delivery_confirm(actor=toys_actor, report=r, now=at)
    assert codes(exc.value) == {"report": [E.DELIVERY_NOT_AWAITING]}


def test_the_other_side_is_notified(cp, coffee_actor, toys_owner, coffee_owner):
    from django.core import mail

    from exchange.models import Notification
    from exchange.services.notifications import email_send, event_dispatch

    report(coffee_actor, cp)
    event = DomainEvent.objects.get(type=EventType.DELIVERY_REPORTED)
    (job,) = event_dispatch(event_id=event.pk)
    assert list(Notification.objects.values_list("user", flat=True)) == [toys_owner.pk]
    assert email_send(delivery_id=job)
    (sent,) = mail.outbox
    assert sent.to == [toys_owner.email] and sent.subject == "汇流：豆仓咖啡 提交了与 小小玩具 置换的交付报告"
    assert f"/campaigns/{cp.leg.campaign_id}/delivery/" in sent.body


# --- silence confirms (beat) -------------------------------------------------------------------
def test_autoconfirm_confirms_what_nobody_answered_in_time(live, coffee, toys, coffee_actor, toys_actor):
    mine = placement_of(live, coffee)
    group = placement_of(live, coffee, "group_broadcast")
    theirs = placement_of(live, toys)
    unanswered = report(coffee_actor, mine)
    disputed = report(coffee_actor, group, reach=4_000, delivered_at=during(group), now=during(group, 30))
    services.delivery_dispute(actor=toys_actor, report=disputed, reason="late", now=during(group, 31))
    fresh = report(toys_actor, theirs, delivered_at=during(theirs), now=unanswered.confirm_due_at - timedelta(hours=1))
    due = unanswered.confirm_due_at
    assert services.deliveries_autoconfirm(now=due - timedelta(seconds=1)) == 0
    assert services.deliveries_autoconfirm(now=due) == 1
    unanswered.refresh_from_db()
    disputed.refresh_from_db()
    fresh.refresh_from_db()
    assert (unanswered.state, unanswered.auto_confirmed, unanswered.confirmed_by) == (
        DeliveryState.CONFIRMED,
        True,
        None,
    )
    assert disputed.state == DeliveryState.DISPUTED, "a dispute never lapses"
    assert fresh.state == DeliveryState.REPORTED
    mine.refresh_from_db()
    assert mine.delivery_confirmed_at == due
    assert LegDayMetrics.objects.get(leg=mine.leg, day=day_of(unanswered.delivered_at)).delivered_reach == 18_000
    (event,) = DomainEvent.objects.filter(type=EventType.DELIVERY_CONFIRMED)
    assert event.actor_brand_id is None
    assert services.deliveries_autoconfirm(now=due + timedelta(hours=1)) == 0, "idempotent"


def test_the_beat_task_runs_the_autoconfirm(cp, coffee_actor, settings):
    from django.utils import timezone

    from exchange.tasks import deliveries_autoconfirm_task

    assert settings.CELERY_BEAT_SCHEDULE["exchange-deliveries-autoconfirm"]["options"]["expires"]
    r = report(coffee_actor, cp)
    DeliveryReport.objects.filter(pk=r.pk).update(confirm_due_at=timezone.now() - timedelta(minutes=1))
    deliveries_autoconfirm_task.delay()
    r.refresh_from_db()
    assert r.state == DeliveryState.CONFIRMED and r.auto_confirmed


# --- completion ------------------------------------------------------------------------------
def _report_all(campaign, coffee, toys, coffee_actor, toys_actor):
    out = {}
    for promoter, actor in ((coffee, coffee_actor), (toys, toys_actor)):
        for cp in campaign.legs.get(promoter=promoter).placements.select_related("placement", "leg"):
            ended = cp.ends_at + timedelta(hours=1)
            out[cp.pk] = services.delivery_report(
                actor=actor,
                placement=cp,
                reach=cp.placement.quantity,
                delivered_at=during(cp),
                proof_url=PROOF,
                now=ended,
            )
    return out


def test_confirmed_reports_complete_the_campaign_when_the_last_window_ends(
    live, coffee, toys, coffee_actor, toys_actor
):
    reports = _report_all(live, coffee, toys, coffee_actor, toys_actor)
    for r in reports.values():
        answerer = toys_actor if r.placement.leg.promoter_id == coffee.pk else coffee_actor
        services.delivery_confirm(actor=answerer, report=r, now=live.ends_at + timedelta(hours=2))
    assert services.campaigns_advance(now=live.ends_at + timedelta(hours=3)).completed == 1


def test_a_disputed_report_holds_completion_past_every_lapse(live, coffee, toys, coffee_actor, toys_actor):
    reports = _report_all(live, coffee, toys, coffee_actor, toys_actor)
    group = placement_of(live, coffee, "group_broadcast")
    services.delivery_dispute(
        actor=toys_actor, report=reports[group.pk], reason="reach_overstated", now=live.ends_at + timedelta(hours=2)
    )
    far = live.ends_at + timedelta(days=365)
    services.deliveries_autoconfirm(now=far)  # confirms the others, never the dispute
    assert services.campaigns_advance(now=far).completed == 0
    live.refresh_from_db()
    assert live.state == CampaignState.LIVE
    assert DeliveryReport.objects.filter(state=DeliveryState.CONFIRMED).count() == 2


def test_an_unanswered_report_holds_completion_until_autoconfirm(
    live, coffee, toys, coffee_actor, toys_actor, settings
):
    settings.EXCHANGE_DELIVERY_CONFIRM_DAYS = 7
    cp = placement_of(live, toys)  # the last window to end
    report_at = cp.ends_at + timedelta(days=6)  # reported late: its answer window runs past the lapse
    r = services.delivery_report(
        actor=toys_actor,
        placement=cp,
        reach=100,
        delivered_at=cp.ends_at - timedelta(hours=1),
        proof_url=PROOF,
        now=report_at,
    )
    lapsed = live.ends_at + timedelta(days=7)
    assert lapsed < r.confirm_due_at
    assert services.campaigns_advance(now=lapsed).completed == 0, "the unanswered report holds it"
    assert services.deliveries_autoconfirm(now=r.confirm_due_at) == 1
    assert services.campaigns_advance(now=r.confirm_due_at).completed == 1


def test_without_any_report_the_campaign_completes_once_the_window_lapses(live, settings):
    settings.EXCHANGE_DELIVERY_CONFIRM_DAYS = 7
    assert services.campaigns_advance(now=live.ends_at + timedelta(days=7) - timedelta(seconds=1)).completed == 0
    assert services.campaigns_advance(now=live.ends_at + timedelta(days=7)).completed == 1


def test_a_completed_campaign_takes_no_first_report_that_would_reopen_it(live, coffee, coffee_actor):
    services.campaigns_advance(now=live.ends_at + timedelta(days=30))
    live.refresh_from_db()
    assert live.state == CampaignState.COMPLETED
    cp = placement_of(live, coffee)
    with pytest.raises(ValidationError) as refused:
        report(coffee_actor, cp, now=live.ends_at + timedelta(days=30))
    assert refused.value.error_dict["placement"][0].code == "campaign_not_running"
    assert not DeliveryReport.objects.filter(placement=cp).exists()
