"""The demo market's swaps: a few proposals in every state, so a newcomer opening the inbox sees
the exchange at work (an accepted swap, one waiting for them, one waiting for the partner, a
declined and an expired one), with threads in the brands' own words.

Made through the real services (so every guard, value and outbox row is what the product
produces), by the brands' own people. Safe to run again: skipped once any proposal exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from exchange import conf, services
from exchange.models import ChannelRate, DomainEvent, Notification, Proposal, ProposalMessage, Revision
from exchange.states import DeclineReason
from exchange.valuation import channel_capacity
from partners import services as partner_services
from partners.actors import Actor
from partners.models import Brand, Membership, Role

# The format each channel type is offered in, when a demo brand offers it.
FORMAT_FOR = {
    "wecom": "direct_message",
    "wechat_group": "group_broadcast",
    "official_account": "article_slot",
    "miniprogram": "miniprogram_popup",
    "app": "banner",
    "douyin": "article_slot",
    "sms": "sms",
    "store": "store_display",
    "package_insert": "parcel_insert",
}
# People of the partner brands (the demo accounts cover Luckin and Pop Mart).
PARTNER_PEOPLE = {
    "panda-bubuzou": ("growth@pandabubuzou.demo", "熊猫不走 私域增长 · 周悦"),
    "bosideng": ("crm@bosideng.demo", "波司登 会员中心 · 陈航"),
    "three-squirrels": ("community@squirrels.demo", "三只松鼠 社群运营 · 林可"),
    "keep": ("partners@keep.demo", "Keep 品牌合作 · 王聪"),
    "watsons": ("member@watsons.demo", "屈臣氏 会员营销 · 李想"),
}


@dataclass
class DemoSwaps:
    proposals: int = 0


def _person(slug: str) -> Actor:
    brand = Brand.objects.get(slug=slug)
    member = Membership.objects.filter(brand=brand, role__in=[Role.OWNER, Role.MARKETER]).select_related("user").first()
    if member is not None:
        return Actor(user=member.user)
    email, display = PARTNER_PEOPLE[slug]
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email, "display_name": display})
    partner_services.membership_add(actor=Actor.system_actor(), brand=brand, email=email, role=Role.MARKETER)
    return Actor(user=user)


def _offer(slug: str, share: float, days=(3, 9), prefer=None) -> dict:
    """A placement on the brand's best channel (or ``prefer`` type): ``share`` of its capacity."""
    brand = Brand.objects.get(slug=slug)
    rated = set(ChannelRate.objects.values_list("channel_type", "format"))
    channels = [c for c in brand.channels.all() if (c.type, FORMAT_FOR.get(c.type)) in rated]
    if prefer:
        channels.sort(key=lambda c: c.type != prefer)
    channel = channels[0]
    fmt = FORMAT_FOR[channel.type]
    start = timezone.localdate() + timedelta(days=days[0])
    end = timezone.localdate() + timedelta(days=days[1])
    cap = channel_capacity(
        channel_type=channel.type,
        size=channel.size,
        active_rate=channel.active_rate,
        fmt=fmt,
        days=(end - start).days + 1,
    )
    quantity = max(100, int(cap * share) // 100 * 100)
    return {"channel_id": channel.pk, "format": fmt, "quantity": quantity, "starts_on": start, "ends_on": end}


def _carry(proposal: Proposal, **changes) -> list[dict]:
    current = proposal.revisions.order_by("-number").first()
    return [
        {
            "based_on_id": p.pk,
            "format": p.format,
            "quantity": changes.get("quantity", {}).get(p.brand_id, p.quantity),
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
        }
        for p in current.placements.all()
    ]


def _age(proposal: Proposal, days: float) -> None:
    """Backdate a seeded proposal — its revisions, messages, events and inbox entries, a few
    hours apart — so the inbox reads like a real week of work."""
    then = timezone.now() - timedelta(days=days)
    step = timedelta(hours=5)
    for i, revision in enumerate(proposal.revisions.order_by("number")):
        Revision.objects.filter(pk=revision.pk).update(created_at=then + i * step)
    last = then + max(0, proposal.revisions.count() - 1) * step
    for i, event in enumerate(DomainEvent.objects.filter(proposal=proposal).order_by("id")):
        services.event_dispatch(event_id=event.pk)  # the inbox rows exist now, so they age too
        at = then + i * step
        DomainEvent.objects.filter(pk=event.pk).update(created_at=at)
        Notification.objects.filter(event=event).update(created_at=at)
        last = max(last, at)
    for i, message in enumerate(proposal.messages.order_by("id")):
        ProposalMessage.objects.filter(pk=message.pk).update(created_at=last + (i + 1) * timedelta(minutes=40))
    Proposal.objects.filter(pk=proposal.pk).update(created_at=then, updated_at=last)
    if proposal.closed_at is not None or Proposal.objects.filter(pk=proposal.pk, closed_at__isnull=False).exists():
        Proposal.objects.filter(pk=proposal.pk).update(closed_at=last)
    Proposal.objects.filter(pk=proposal.pk, expires_at__isnull=False).update(
        expires_at=last + timedelta(days=conf.expiry_days())
    )


def demo_swaps_load() -> DemoSwaps:
    if Proposal.objects.exists():
        return DemoSwaps()
    luckin, popmart = _person("luckin-coffee"), _person("pop-mart")
    panda, bosideng = _person("panda-bubuzou"), _person("bosideng")
    keep, watsons = _person("keep"), _person("watsons")
    _person("three-squirrels")  # the partner's people, so its inbox has someone to read it
    slugs = ("luckin-coffee", "pop-mart", "panda-bubuzou", "bosideng", "three-squirrels", "keep", "watsons")
    b = {slug: Brand.objects.get(slug=slug) for slug in slugs}
    # The demo's past e-mails are not worth printing to the console again on every load.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
        # 1. Luckin × Pop Mart — accepted after one counter.
        p1 = services.proposal_create(
            actor=luckin,
            brand=b["luckin-coffee"],
            counterparty=b["pop-mart"],
            placements=[_offer("luckin-coffee", 0.05)],
            asks=[{"format": "miniprogram_popup", "quantity": 200_000}],
            message="盲盒 × 咖啡的联名周，我们企微给泡泡玛特会员发一轮 1 对 1 福利，想换你们小程序的开屏弹窗。",
        )
        services.proposal_counter(
            actor=popmart,
            proposal=p1,
            revision=1,
            placements=[*_carry(p1), _offer("pop-mart", 0.05, prefer="miniprogram")],
            message="可以，小程序弹窗给到 5% 的活跃会员，价值基本对等，窗口跟你们一致。",
        )
        p1.refresh_from_db()
        services.proposal_accept(actor=luckin, proposal=p1, revision=2)
        services.proposal_message_send(actor=popmart, proposal=p1, body="收到，素材下周一前发你们。")
        _age(p1, 6)
        # 2. 熊猫不走 → Luckin — waiting for Luckin (the demo owner's inbox).
        p2 = services.proposal_create(
            actor=panda,
            brand=b["panda-bubuzou"],
            counterparty=b["luckin-coffee"],
            placements=[_offer("panda-bubuzou", 0.2)],
            asks=[{"format": "direct_message", "quantity": 50_000}],
            message="生日蛋糕 + 咖啡券的组合，我们在企微里给 25-34 岁的会员推瑞幸的咖啡券，想换你们企微的一轮触达。",
        )
        _age(p2, 1)
        # 3. Luckin → 波司登 — Bosideng countered with less; waiting for Luckin again.
        p3 = services.proposal_create(
            actor=luckin,
            brand=b["luckin-coffee"],
            counterparty=b["bosideng"],
            placements=[_offer("luckin-coffee", 0.04, prefer="wechat_group")],
            message="入冬热饮季，想和波司登做一次会员社群互推。",
        )
        services.proposal_counter(
            actor=bosideng,
            proposal=p3,
            revision=1,
            placements=[*_carry(p3), _offer("bosideng", 0.02)],
            message="我们先用小程序弹窗给 2% 的活跃会员试一轮，效果好再加量。",
        )
        _age(p3, 2)
        # 4. Pop Mart → 三只松鼠 — waiting for the partner.
        p4 = services.proposal_create(
            actor=popmart,
            brand=b["pop-mart"],
            counterparty=b["three-squirrels"],
            placements=[_offer("pop-mart", 0.03)],
            asks=[{"format": "parcel_insert", "quantity": 50_000}],
            message="年货节我们想在你们的包裹里放盲盒卡，换我们会员企微的一次福利推送。",
        )
        _age(p4, 0.5)
        # 5. Keep → Pop Mart — declined with a reason.
        p5 = services.proposal_create(
            actor=keep,
            brand=b["keep"],
            counterparty=b["pop-mart"],
            placements=[_offer("keep", 0.01)],
            message="运动打卡送盲盒？",
        )
        services.proposal_decline(
            actor=popmart, proposal=p5, revision=1, reason=DeclineReason.TIMING, note="Q1 排期已满，三月后再聊。"
        )
        _age(p5, 9)
        # 6. 屈臣氏 → Luckin — nobody answered in time.
        p6 = services.proposal_create(
            actor=watsons, brand=b["watsons"], counterparty=b["luckin-coffee"], placements=[_offer("watsons", 0.02)]
        )
        _age(p6, 12)  # twelve days ago, unanswered for longer than the expiry: the hourly sweep closed it
        p6.refresh_from_db()
        expired_at = p6.expires_at + timedelta(minutes=7)
        services.proposals_expire(now=expired_at)
        expiry = DomainEvent.objects.filter(proposal=p6).order_by("-id").first()
        services.event_dispatch(event_id=expiry.pk)
        DomainEvent.objects.filter(pk=expiry.pk).update(created_at=expired_at)
        Notification.objects.filter(event=expiry).update(created_at=expired_at)
    return DemoSwaps(proposals=Proposal.objects.count())
