"""Campaigns: created from an accepted proposal, moved ``scheduled → live → completed`` by beat.

* ``campaign_create`` — called by ``proposal_accept`` in its own transaction (so an accepted
  proposal never lacks its campaign), idempotent: one campaign per proposal, which the database
  enforces. ``campaigns_create_missing`` (beat) covers proposals accepted before campaigns
  existed.
* ``campaigns_advance`` (beat) — live once the earliest placement window has started;
  completed once every placement is *settled*: its window has ended and its delivery is
  confirmed (``exchange.services.delivery``), or nobody reported on it and the confirmation
  window (``EXCHANGE_DELIVERY_CONFIRM_DAYS``) after its end has lapsed. A report holds the
  campaign until it is confirmed: an unanswered one until its own window lapses (beat then
  confirms it), a disputed one until it is resolved — a dispute never lapses. Each transition
  is audited (for both brands) and written to the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from exchange import conf
from exchange.models import Campaign, CampaignLeg, CampaignPlacement, EventType, LegDayMetrics, Proposal
from exchange.outbox import emit
from exchange.services.settlements import settlement_open
from exchange.services.tracking import landing_default, links_create
from exchange.states import CAMPAIGN_TRANSITIONS, CampaignState, ProposalState
from matching import services as matching_services
from matching.models import OutcomeKind
from partners.actors import Actor
from partners.models import AuditAction
from partners.services import audit

SWEEP_LIMIT = 1000


def window_of(starts_on: date, ends_on: date) -> tuple[datetime, datetime]:
    """A placement's dates as a half-open window in the site's time zone (Asia/Shanghai):
    ``starts_on`` 00:00 up to the midnight that ends ``ends_on``."""
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(starts_on, time.min), tz)
    end = timezone.make_aware(datetime.combine(ends_on + timedelta(days=1), time.min), tz)
    return start, end


def _audit_both(actor: Actor, action: AuditAction, campaign: Campaign, data: dict) -> None:
    for brand in (campaign.brand_a, campaign.brand_b):
        audit(actor=actor, action=action, obj=campaign, brand=brand, data=data)


def _payload(campaign: Campaign) -> dict:
    return {
        "campaign": campaign.pk,
        "proposal": campaign.proposal_id,
        "state": campaign.state,
        "brand_a": campaign.brand_a.slug,
        "brand_b": campaign.brand_b.slug,
        "starts_at": campaign.starts_at.isoformat(),
        "ends_at": campaign.ends_at.isoformat(),
    }


def campaign_create(*, actor: Actor, proposal: Proposal) -> Campaign:
    """The campaign of an accepted proposal (created once; later calls return it): two legs,
    each with its promoter's placements of the accepted revision and a tracking link per
    placement. Runs in the caller's transaction, or its own."""
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().select_related("initiator", "counterparty").get(pk=proposal.pk)
        existing = Campaign.objects.filter(proposal=proposal).first()
        if existing is not None:
            return existing
        if proposal.state != ProposalState.ACCEPTED:
            raise ValueError(f"proposal {proposal.pk} is {proposal.state}, not accepted")
        revision = proposal.revisions.get(number=proposal.revision_number)
        placements = list(revision.placements.all())
        windows = {p.pk: window_of(p.starts_on, p.ends_on) for p in placements}
        try:
            with transaction.atomic():  # the one-to-one on proposal is the last word on "once"
                campaign = Campaign.objects.create(
                    proposal=proposal,
                    revision=revision,
                    brand_a=proposal.initiator,
                    brand_b=proposal.counterparty,
                    starts_at=min(w[0] for w in windows.values()),
                    ends_at=max(w[1] for w in windows.values()),
                )
        except IntegrityError:
            return Campaign.objects.get(proposal=proposal)
        run: list[CampaignPlacement] = []
        for promoter, promoted in (
            (proposal.initiator, proposal.counterparty),
            (proposal.counterparty, proposal.initiator),
        ):
            leg = CampaignLeg.objects.create(
                campaign=campaign, promoter=promoter, promoted=promoted, landing_url=landing_default(promoted)
            )
            mine = [p for p in placements if p.brand_id == promoter.pk]
            created = CampaignPlacement.objects.bulk_create(
                [
                    CampaignPlacement(leg=leg, placement=p, starts_at=windows[p.pk][0], ends_at=windows[p.pk][1])
                    for p in mine
                ]
            )
            for cp, p in zip(created, mine, strict=True):
                cp.leg, cp.placement = leg, p
            run.extend(created)
        links_create(campaign=campaign, placements=run)
        _audit_both(
            actor, AuditAction.CAMPAIGN_CREATED, campaign, {"proposal": proposal.pk, "revision": revision.number}
        )
        return campaign


def campaigns_create_missing(*, limit: int = 100) -> int:
    """Campaigns for accepted proposals that have none (accepted before campaigns existed).
    Returns how many were created."""
    ids = list(
        Proposal.objects.filter(state=ProposalState.ACCEPTED, campaign__isnull=True).values_list("pk", flat=True)[
            :limit
        ]
    )
    system = Actor.system_actor()
    for pk in ids:
        campaign_create(actor=system, proposal=Proposal(pk=pk))
    return len(ids)


def _unsettled_q(now: datetime) -> Q:
    """A placement whose window is still running, or ended without a confirmed delivery while
    either the confirmation window after it has not lapsed or a report on it (unanswered or
    disputed) waits — the one rule of completion. Confirming a report sets
    ``delivery_confirmed_at``."""
    lapsed = now - timedelta(days=conf.delivery_confirm_days())
    return Q(ends_at__gt=now) | (
        Q(delivery_confirmed_at__isnull=True) & (Q(ends_at__gt=lapsed) | Q(delivery_report__isnull=False))
    )


def _unsettled_placements(now: datetime):
    return CampaignPlacement.objects.filter(_unsettled_q(now))


def _unsettled(now: datetime) -> Exists:
    return Exists(_unsettled_placements(now).filter(leg__campaign=OuterRef("pk")))


@dataclass(frozen=True)
class Advanced:
    live: int = 0
    completed: int = 0


def _transition(pk: int, name: str, now: datetime, still_due) -> bool:
    """One campaign, one transition, in its own transaction with the row locked and the due
    condition asked again (a concurrent run may have moved it)."""
    step = CAMPAIGN_TRANSITIONS[name]
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("brand_a", "brand_b").get(pk=pk)
        if campaign.state not in step.sources or not still_due(campaign):
            return False
        campaign.state = step.target
        if step.target == CampaignState.LIVE:
            campaign.live_at = now
            action, event = AuditAction.CAMPAIGN_LIVE, EventType.CAMPAIGN_LIVE
        else:
            campaign.completed_at = now
            action, event = AuditAction.CAMPAIGN_COMPLETED, EventType.CAMPAIGN_COMPLETED
        campaign.save(update_fields=["state", "live_at", "completed_at"])
        _audit_both(Actor.system_actor(), action, campaign, {"at": now.isoformat()})
        emit(type=event, proposal=campaign.proposal, actor_brand_id=None, payload=_payload(campaign))
        if step.target == CampaignState.COMPLETED:
            # The reciprocity of the finished swap: a settlement if the gap is above tolerance.
            settlement_open(campaign=campaign, now=now)
            _record_completion(campaign)
    return True


def _record_completion(campaign: Campaign) -> None:
    """A completed swap is the matcher's best label: recorded with the new members each brand
    gained through the leg promoting it (its grade grows with them), in this transaction."""
    gained = {
        row["leg__promoted_id"]: row["n"]
        for row in LegDayMetrics.objects.filter(leg__campaign=campaign)
        .values("leg__promoted_id")
        .annotate(n=Sum("new_members"))
    }
    matching_services.outcome_record(
        brand_a_id=campaign.brand_a_id,
        brand_b_id=campaign.brand_b_id,
        kind=OutcomeKind.COMPLETED,
        key=f"exchange:campaign:{campaign.pk}:completed",
        a_new_members=int(gained.get(campaign.brand_a_id) or 0),
        b_new_members=int(gained.get(campaign.brand_b_id) or 0),
        slot=campaign.proposal.slot,  # the slot its proposal was made from (brand_a proposed it)
    )


def campaigns_advance(*, now: datetime | None = None) -> Advanced:
    """Move every due campaign one state on (a campaign whose whole run already lies in the past
    goes live and completes in the same call). Returns how many moved."""
    now = now or timezone.now()
    due_live = Campaign.objects.filter(state=CampaignState.SCHEDULED, starts_at__lte=now)
    live = sum(
        _transition(pk, "go_live", now, lambda c: c.starts_at <= now)
        for pk in list(due_live.values_list("pk", flat=True)[:SWEEP_LIMIT])
    )
    due_done = Campaign.objects.filter(state=CampaignState.LIVE, ends_at__lte=now).exclude(_unsettled(now))
    completed = sum(
        _transition(pk, "complete", now, lambda c: not _unsettled_placements(now).filter(leg__campaign=c).exists())
        for pk in list(due_done.values_list("pk", flat=True)[:SWEEP_LIMIT])
    )
    return Advanced(live=live, completed=completed)
