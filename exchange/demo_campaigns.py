"""The demo market's campaigns: two completed and one live, with a believable history of clicks
(a launch-day spike that decays, evening peaks, repeat visitors, a few unfurlers and crawlers
filtered out) and delivery reports (confirmed on the finished swaps; awaiting an answer and
disputed on the live one), so the dashboards open on real-looking figures. The first finished
swap ends short on one side, which carries the gap as traffic credit; the second is disputed on
its result and decided by a platform admin with an adjustment, pays that credit down (its
brand is the heavier side this time) and leaves the other brand a settlement to choose.

The swaps are proposed and accepted through the real services (so values, legs, links and the
outbox are what the product makes), then moved back in time — a proposal cannot be made for a
past window, but a demo needs a finished swap — and their clicks are written through the same
idempotent writer the stream flush uses (``clicks.events_write``), which keeps the rollups.
Safe to run again: skipped once a live or completed campaign exists.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.test.utils import override_settings
from django.utils import timezone

from exchange import conf, services, valuation
from exchange.demo import _offer, _person
from exchange.models import (
    BotReason,
    Campaign,
    CampaignPlacement,
    ChannelRate,
    Ingest,
    Placement,
    Proposal,
    ReportedEvent,
    ReportedKind,
    ReportedState,
    ReverseReason,
    Revision,
    Settlement,
    SettlementChoice,
    SettlementState,
    UaClass,
    VisitorKind,
)
from exchange.services import clicks
from exchange.services.campaigns import window_of
from exchange.services.tracking import link_memo_clear
from exchange.states import CampaignState
from partners.models import Brand

# Hourly weights of a day's clicks in Asia/Shanghai: lunch and the evening scroll.
HOURLY = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.5, 3, 3, 3.5, 5, 4, 3, 3, 3, 3.5, 4.5, 6, 7, 7.5, 6, 3]
REFERRERS = ["", "", "", "", "mp.weixin.qq.com", "work.weixin.qq.com", "servicewechat.com"]
BOTS = [
    (UaClass.PREVIEW, BotReason.PREVIEW_AGENT),
    (UaClass.BOT, BotReason.BOT_AGENT),
    (UaClass.OTHER, BotReason.NO_AGENT),
]


@dataclass
class DemoCampaigns:
    campaigns: int = 0
    clicks: int = 0
    conversions: int = 0
    new_members: int = 0


@dataclass(frozen=True)
class Plan:
    """One demo swap: who proposes to whom, each side's share of its best channel's capacity,
    where its window lies relative to today, and the click-through of each side's audience."""

    initiator: str
    counterparty: str
    # The initiator offers this share of its channel's capacity; the counterparty answers with
    # what matches that value (as the composer's balance meter leads people to), capped by its
    # own channel.
    share: float
    prefer: tuple[str | None, str | None]
    starts_days_ago: int
    days: int
    ctr: tuple[float, float]
    message: str
    # What each side really delivered, as a share of its promise (reported ± a few per cent).
    delivered: tuple[float, float] = (1.0, 1.0)
    # A finished swap's lighter side disputes the result, the other side answers and a platform
    # admin decides it with an adjustment (the settlement's figures follow); its payer has not
    # chosen yet. Otherwise the lighter side carries the gap as credit.
    disputed_result: bool = False


PLANS = (
    Plan(
        initiator="luckin-coffee",
        counterparty="three-squirrels",
        share=0.08,
        prefer=("wecom", "package_insert"),
        starts_days_ago=24,
        days=7,
        ctr=(0.021, 0.016),
        message="双十二囤货季：我们企微会员发一轮坚果礼盒福利，换你们包裹里的一张咖啡券卡片。",
        # A warehouse backlog: the parcel inserts reached about four in five parcels — the swap
        # ends short on one side, and three squirrels carries the gap as traffic credit.
        delivered=(1.0, 0.8),
    ),
    Plan(
        initiator="pop-mart",
        counterparty="panda-bubuzou",
        share=0.04,
        prefer=("miniprogram", "wecom"),
        starts_days_ago=4,
        days=9,
        ctr=(0.018, 0.024),
        message="圣诞限定盲盒 × 生日蛋糕：小程序开屏给熊猫不走的蛋糕券，换你们企微会员的一轮盲盒福利推送。",
    ),
    Plan(
        initiator="three-squirrels",
        counterparty="keep",
        share=0.0003,
        prefer=("package_insert", "app"),
        starts_days_ago=16,
        days=5,
        ctr=(0.012, 0.009),
        message="健身加餐季：包裹里放 Keep 的训练营体验卡，换 App 开屏推一轮每日坚果轻食福利。",
        # Keep's splash ran on fewer days than promised: it ends lighter — and three squirrels,
        # the heavier side this time, pays down the credit its first swap left it owing.
        delivered=(1.0, 0.78),
        disputed_result=True,
    ),
)


def _accepted(plan: Plan) -> Proposal:
    initiator, counterparty = _person(plan.initiator), _person(plan.counterparty)
    brands = {s: Brand.objects.get(slug=s) for s in (plan.initiator, plan.counterparty)}
    span = (3, 3 + plan.days - 1)
    proposal = services.proposal_create(
        actor=initiator,
        brand=brands[plan.initiator],
        counterparty=brands[plan.counterparty],
        placements=[_offer(plan.initiator, plan.share, days=span, prefer=plan.prefer[0])],
        message=plan.message,
    )
    current = proposal.revisions.get()
    services.proposal_counter(
        actor=counterparty,
        proposal=proposal,
        revision=1,
        placements=[
            *(
                {
                    "based_on_id": p.pk,
                    "format": p.format,
                    "quantity": p.quantity,
                    "starts_on": p.starts_on,
                    "ends_on": p.ends_on,
                }
                for p in current.placements.all()
            ),
            _matching_offer(
                plan.counterparty,
                sum(p.value_cents for p in current.placements.all()),
                days=span,
                prefer=plan.prefer[1],
            ),
        ],
        message="没问题，我们这边同一周期上线，素材按品牌规范走。",
    )
    return services.proposal_accept(actor=initiator, proposal=proposal, revision=2)


def _dispute_result(campaign: Campaign, plan: Plan, completed_at: datetime, now: datetime) -> None:
    """The lighter side says the other side's parcel cards reached fewer parcels than reported;
    the other side answers with its warehouse log; a platform admin upholds it in part, cutting
    that report's reach by 6% (a reversal and a corrected posting in the ledger)."""
    from django.contrib.auth import get_user_model

    from exchange.models import DeliveryReport
    from partners.actors import Actor

    settlement = Settlement.objects.filter(campaign=campaign).select_related("payer", "payee").first()
    if settlement is None:
        return
    payer, payee = settlement.payer.slug, settlement.payee.slug
    report = (
        DeliveryReport.objects.filter(campaign=campaign, placement__leg__promoter__slug=payee).order_by("pk").first()
    )
    opened_at = completed_at + timedelta(days=1)
    dispute = services.dispute_open(
        actor=_person(payer),
        campaign=campaign,
        subject="result",
        reason="figures_wrong",
        statement="包裹卡按仓库出库单只放进了约九成四的包裹，报告里按全部包裹计了曝光，请按出库单核对。",
        now=opened_at,
    )
    services.dispute_answer(
        actor=_person(payee),
        dispute=dispute,
        answer="双十二那周有一批包裹走了备用仓，卡片补放晚了两天，出库记录已上传；数量以平台核对为准。",
        now=opened_at + timedelta(hours=20),
    )
    admin = get_user_model().objects.filter(email="admin@huiliu.demo").first()
    if admin is None or report is None:
        return
    services.dispute_resolve(
        actor=Actor(user=admin),
        dispute=dispute,
        outcome="upheld",
        decision="按出库单核对：备用仓那批包裹未放卡片，该投放的触达按 94% 计，其余数据维持。",
        adjustments={report.pk: int(report.reach * 0.94)},
        now=min(now - timedelta(days=1), opened_at + timedelta(days=3)),
    )


def _settle(campaign: Campaign, completed_at: datetime) -> None:
    """The lighter side of a finished demo swap chooses to carry its gap as traffic credit, two
    days after the settlement opened."""
    settlement = Settlement.objects.filter(campaign=campaign).select_related("payer").first()
    if settlement is not None and settlement.state == SettlementState.OPEN:
        services.settlement_choose(
            actor=_person(settlement.payer.slug),
            settlement=settlement,
            choice=SettlementChoice.CREDIT,
            now=completed_at + timedelta(days=2),
        )


def _matching_offer(slug: str, value_cents: int, days, prefer) -> dict:
    """A placement on the brand's preferred channel worth about ``value_cents`` (rounded up to a
    figure people write, capped by what the channel can carry)."""
    offer = _offer(slug, 1.0, days=days, prefer=prefer)  # the whole capacity: the cap
    channel = Brand.objects.get(slug=slug).channels.get(pk=offer["channel_id"])
    rate = ChannelRate.objects.get(channel_type=channel.type, format=offer["format"])
    need = valuation.quantity_for_value(value_cents, rate.rate_cents, rate.unit)
    offer["quantity"] = min(offer["quantity"], max(100, -(-need // 100) * 100))
    return offer


def _move_back(campaign: Campaign, days: int) -> None:
    """Shift the swap ``days`` into the past: its proposal's history, placement dates, and the
    campaign's windows (read again from the moved dates, as ``campaign_create`` derives them)."""
    shift = timedelta(days=days)
    proposal = campaign.proposal
    Proposal.objects.filter(pk=proposal.pk).update(
        created_at=proposal.created_at - shift,
        updated_at=proposal.updated_at - shift,
        closed_at=proposal.closed_at - shift,
    )
    for revision in Revision.objects.filter(proposal=proposal):
        Revision.objects.filter(pk=revision.pk).update(created_at=revision.created_at - shift)
    for placement in Placement.objects.filter(revision__proposal=proposal):
        Placement.objects.filter(pk=placement.pk).update(
            starts_on=placement.starts_on - shift, ends_on=placement.ends_on - shift
        )
    windows = []
    for cp in CampaignPlacement.objects.filter(leg__campaign=campaign).select_related("placement"):
        start, end = window_of(cp.placement.starts_on, cp.placement.ends_on)
        CampaignPlacement.objects.filter(pk=cp.pk).update(starts_at=start, ends_at=end)
        windows.append((start, end))
    Campaign.objects.filter(pk=campaign.pk).update(
        created_at=campaign.created_at - shift,
        starts_at=min(w[0] for w in windows),
        ends_at=max(w[1] for w in windows),
    )
    link_memo_clear()


def _day_weights(days: int, rng: random.Random) -> list[float]:
    """A launch spike decaying over the window, with day-to-day noise and a weekend lift."""
    return [math.exp(-0.38 * d) * rng.uniform(0.8, 1.2) + 0.08 for d in range(days)]


def _moment(day: date, rng: random.Random) -> datetime:
    tz = timezone.get_default_timezone()
    hour = rng.choices(range(24), weights=HOURLY)[0]
    at = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60), rng.randrange(1_000_000)))
    return timezone.make_aware(at, tz)


def _clicks_for(cp: CampaignPlacement, *, ctr: float, until: datetime, rng: random.Random) -> list[tuple]:
    """Click rows (``clicks.COLUMNS`` order) for one placement's link from its start to ``until``."""
    link = cp.link
    reach = cp.placement.quantity
    first = timezone.localtime(cp.starts_at).date()
    days = (timezone.localtime(cp.ends_at).date() - first).days
    weights = _day_weights(days, rng)
    total = min(int(reach * ctr), MAX_CLICKS_PER_PLACEMENT)
    pool = [uuid.uuid4().hex for _ in range(max(1, int(total * 0.78)))]  # repeat visitors
    rows = []
    for d, weight in enumerate(weights):
        day = first + timedelta(days=d)
        for _ in range(int(total * weight / sum(weights))):
            at = _moment(day, rng)
            if at >= until:
                continue
            bot = rng.random() < 0.045
            ua, reason = rng.choice(BOTS) if bot else (rng.choice([UaClass.MOBILE] * 9 + [UaClass.BROWSER]), "")
            rows.append(
                (
                    uuid.uuid4(),
                    at,
                    link.code,
                    link.pk,
                    cp.leg_id,
                    uuid.uuid4(),
                    rng.choice(pool) if not bot else uuid.uuid4().hex,
                    VisitorKind.COOKIE if not bot else VisitorKind.HASH,
                    rng.choice(REFERRERS),
                    ua,
                    bot,
                    reason,
                    False,
                    Ingest.STREAM,
                )
            )
    # A few late clicks on a finished placement: recorded, flagged outside the window.
    if cp.ends_at < until:
        for _ in range(rng.randint(3, 9)):
            at = cp.ends_at + timedelta(hours=rng.uniform(1, 60))
            if at < until:
                rows.append(
                    (
                        uuid.uuid4(),
                        at,
                        link.code,
                        link.pk,
                        cp.leg_id,
                        uuid.uuid4(),
                        rng.choice(pool),
                        VisitorKind.COOKIE,
                        "",
                        UaClass.MOBILE,
                        False,
                        "",
                        True,
                        Ingest.STREAM,
                    )
                )
    return rows


DELIVERY_PROOFS = {
    "wecom": "https://work.weixin.qq.com/wework_admin/frame#/customer/analysis",
    "miniprogram": "https://mp.weixin.qq.com/wxamp/statistics/overview",
    "package_insert": "https://mp.weixin.qq.com/s/demo-parcel-insert-batch",
}


def _deliveries(campaign: Campaign, plan: Plan, now: datetime, rng: random.Random) -> None:
    """Delivery reports as the brands would file them: on the finished swap, every placement
    reported the day after its window and confirmed by the other side the day after that (so it
    completes when its last window ends); on the live swap, the placements whose window started
    two days ago are reported, one of them disputed — the dashboards and the admins' dispute
    list open on both states."""
    finished = campaign.ends_at < now
    share_of = {plan.initiator: plan.delivered[0], plan.counterparty: plan.delivered[1]}
    for cp in (
        CampaignPlacement.objects.filter(leg__campaign=campaign)
        .select_related("placement", "leg__promoter", "leg__promoted")
        .order_by("leg_id", "id")
    ):
        reported_at = (cp.ends_at + timedelta(hours=20)) if finished else (cp.starts_at + timedelta(days=2))
        if reported_at >= now:
            continue
        report = services.delivery_report(
            actor=_person(cp.leg.promoter.slug),
            placement=cp,
            reach=int(cp.placement.quantity * min(1.04, share_of[cp.leg.promoter.slug] * rng.uniform(0.97, 1.02))),
            delivered_at=reported_at - timedelta(hours=30),
            proof_url=DELIVERY_PROOFS.get(cp.placement.channel_type, DELIVERY_PROOFS["package_insert"]),
            note="数据取自后台统计，截图已同步到群里。",
            now=reported_at,
        )
        answer = _person(cp.leg.promoted.slug)
        if finished:
            services.delivery_confirm(actor=answer, report=report, now=reported_at + timedelta(hours=26))
        elif cp.leg.promoter.slug == plan.counterparty:
            services.delivery_dispute(
                actor=answer,
                report=report,
                reason="reach_overstated",
                note="我们这边小程序后台看到的曝光约少一成，麻烦核对一下口径。",
                now=min(now, reported_at + timedelta(hours=5)),
            )


# What an order looks like in each promoted brand's shop (¥, cents): a coffee, a snack box, a
# blind box — the amounts the demo's orders are drawn from.
BASKETS = {
    "luckin-coffee": (1_690, 2_990, 3_580, 5_980),
    "three-squirrels": (3_990, 5_990, 8_990, 12_900),
    "pop-mart": (5_900, 6_900, 11_800, 35_900),
    "panda-bubuzou": (9_900, 13_900, 19_900),
}
# The demo keeps each link to a few thousand clicks (a click-through well under 1% of the big
# channels' reach): believable, and `make demo` loads in seconds rather than minutes.
MAX_CLICKS_PER_PLACEMENT = 2_500
COUPON_SHARE = 0.3  # of a leg's orders, redeemed with a coupon of its first placement
BATCH = 500  # rows per report call, as the API takes them


def _report_in_batches(report, *, actor, brand, rows: list[dict]) -> int:
    stored = 0
    for start in range(0, len(rows), BATCH):
        result = report(actor=actor, brand=brand, rows=rows[start : start + BATCH])
        stored += sum(1 for a in result.accepted if not a.duplicate)
    return stored


def _coupons(campaign: Campaign) -> dict[int, tuple[CampaignPlacement, list[str]]]:
    """Each promoted brand issues a batch of coupons on its first placement while the swap is
    live (a finished campaign issues none): leg id → (placement, codes)."""
    out = {}
    for leg in campaign.legs.select_related("promoted").order_by("id"):
        first = leg.placements.select_related("link").order_by("starts_at", "id").first()
        batch = services.coupon_batch_generate(actor=_person(leg.promoted.slug), placement=first, size=400)
        out[leg.pk] = (first, list(batch.coupons.order_by("id").values_list("code", flat=True)))
    return out


def _reported(
    campaign: Campaign, click_rows: list[tuple], coupons_of: dict, now: datetime, rng: random.Random
) -> tuple[int, int]:
    """What each promoted brand's shop and CRM report back, as a partner system would through
    ``reportConversions`` / ``reportNewMembers``: orders by visitors who clicked (by click id,
    or with one of the leg's coupons), new WeCom / membership sign-ups among them, a few
    reversed (refunds, members who left). Rows older than the screening period are then
    confirmed by the beat's own service. Returns (orders, new members) stored."""
    orders = members = 0
    by_leg: dict[int, list[tuple]] = {}
    for row in click_rows:
        if not row[10] and not row[12]:  # neither filtered nor outside the window
            by_leg.setdefault(row[4], []).append(row)
    for leg in campaign.legs.select_related("promoted").order_by("id"):
        clicks_of_leg = sorted(by_leg.get(leg.pk, []), key=lambda r: r[1])
        if not clicks_of_leg:
            continue
        promoted = leg.promoted
        actor = _person(promoted.slug)
        basket = BASKETS.get(promoted.slug, (4_990, 8_990, 12_900))
        first, coupons = coupons_of[leg.pk]
        coupons = list(coupons)
        conversions, joined, seen_visitors = [], [], set()
        for row in clicks_of_leg:
            click_id, at, visitor = row[5], row[1], row[6]
            if rng.random() < 0.055:
                when = min(at + timedelta(minutes=rng.uniform(2, 90)), now - timedelta(minutes=5))
                order = {
                    "external_id": f"{promoted.slug[:3].upper()}-{when:%y%m%d}-{len(conversions) + 1:05d}",
                    "amount_cents": rng.choice(basket),
                    "currency": "CNY",
                    "occurred_at": when,
                }
                if coupons and rng.random() < COUPON_SHARE and when < first.ends_at:
                    order["coupon_code"] = coupons.pop()
                else:
                    order["click_id"] = str(click_id)
                conversions.append(order)
            if visitor not in seen_visitors and rng.random() < 0.16:
                seen_visitors.add(visitor)
                when = min(at + timedelta(minutes=rng.uniform(1, 30)), now - timedelta(minutes=5))
                member = uuid.uuid5(uuid.NAMESPACE_URL, f"{promoted.slug}/{visitor}").hex  # hashed by the client
                joined.append({"external_id": member, "click_id": str(click_id), "occurred_at": when})
        orders += _report_in_batches(services.conversions_report, actor=actor, brand=promoted, rows=conversions)
        members += _report_in_batches(services.new_members_report, actor=actor, brand=promoted, rows=joined)
        stored = ReportedEvent.objects.filter(leg=leg).order_by("occurred_at", "id")
        for event, reason in (
            *((e, ReverseReason.REFUND) for e in stored.filter(kind=ReportedKind.CONVERSION)[3:5]),
            *((e, ReverseReason.MEMBER_LEFT) for e in stored.filter(kind=ReportedKind.NEW_MEMBER)[7:9]),
        ):
            services.reported_event_reverse(actor=actor, event=event, reason=reason)
    # Reported as they happened: each row's report time is an hour after the order or sign-up
    # (the shop's hourly sync), so the older ones have passed their screening period.
    ReportedEvent.objects.filter(campaign=campaign).update(created_at=F("occurred_at") + timedelta(hours=1))
    ReportedEvent.objects.filter(campaign=campaign, state=ReportedState.REVERSED).update(
        reversed_at=Least(F("created_at") + timedelta(days=2), Value(now))
    )
    services.reported_events_confirm(now=now)
    return orders, members


def demo_campaigns_load() -> DemoCampaigns:
    """The two demo campaigns with their clicks (once: nothing when one is live or completed)."""
    if Campaign.objects.filter(state__in=(CampaignState.LIVE, CampaignState.COMPLETED)).exists():
        return DemoCampaigns()
    result = DemoCampaigns()
    now = timezone.now()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for n, plan in enumerate(PLANS):
            rng = random.Random(20261206 + n)
            with transaction.atomic():
                campaign = _accepted(plan).campaign
                _move_back(campaign, days=3 + plan.starts_days_ago)
            campaign.refresh_from_db()
            services.campaigns_advance(now=campaign.starts_at + timedelta(minutes=5))
            with transaction.atomic():
                coupons_of = _coupons(campaign)
            with transaction.atomic():
                _deliveries(campaign, plan, now, rng)
            settled = campaign.ends_at + timedelta(days=conf.delivery_confirm_days(), hours=1)
            if settled < now:
                services.campaigns_advance(now=settled)
                if plan.disputed_result:
                    _dispute_result(campaign, plan, settled, now)
                else:
                    _settle(campaign, settled)
            rows = []
            for cp in CampaignPlacement.objects.filter(leg__campaign=campaign).select_related(
                "link", "placement", "leg"
            ):
                side = 0 if cp.leg.promoter.slug == plan.initiator else 1
                rows.extend(_clicks_for(cp, ctr=plan.ctr[side], until=now, rng=rng))
            with transaction.atomic():
                result.clicks += clicks.events_write(rows)
            with transaction.atomic():
                orders, members = _reported(campaign, rows, coupons_of, now, rng)
            result.conversions += orders
            result.new_members += members
            result.campaigns += 1
    return result
