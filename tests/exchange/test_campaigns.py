"""Campaigns: accepting a proposal creates exactly one campaign with two legs holding each
promoter's placements and a tracking link each; beat moves it scheduled → live → completed at
the right instants (a frozen "now"), audited for both brands and written to the outbox."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from exchange import services
from exchange.models import Campaign, CampaignLeg, CampaignPlacement, DomainEvent, EventType, TrackingLink
from exchange.notices import notice_line
from exchange.services.campaigns import window_of
from exchange.states import CampaignState
from partners.models import AuditAction, AuditEvent


def local_midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def test_accepting_creates_one_campaign_with_a_leg_per_direction(accepted, coffee, toys):
    campaign = Campaign.objects.get()
    assert campaign.proposal == accepted and campaign.revision.number == 2
    assert (campaign.brand_a, campaign.brand_b, campaign.state) == (coffee, toys, CampaignState.SCHEDULED)
    legs = {leg.promoter.slug: leg for leg in campaign.legs.all()}
    assert set(legs) == {"bean-house", "tiny-toys"}
    assert legs["bean-house"].promoted == toys and legs["tiny-toys"].promoted == coffee
    revision_placements = {p.pk: p for p in campaign.revision.placements.all()}
    for leg in legs.values():
        held = [cp.placement for cp in leg.placements.all()]
        assert held and all(p.brand_id == leg.promoter_id for p in held)
        assert all(p.revision_id == campaign.revision_id for p in held)
    assert CampaignPlacement.objects.count() == len(revision_placements) == 3
    assert AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_CREATED, object_id=str(campaign.pk)).count() == 2


def test_campaign_creation_is_idempotent_and_unique_in_the_database(accepted, coffee_actor):
    first = accepted.campaign
    again = services.campaign_create(actor=coffee_actor, proposal=accepted)
    assert again.pk == first.pk
    assert (Campaign.objects.count(), CampaignLeg.objects.count(), TrackingLink.objects.count()) == (1, 2, 3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.create(
            proposal=accepted,
            revision=first.revision,
            brand_a=first.brand_a,
            brand_b=first.brand_b,
            starts_at=first.starts_at,
            ends_at=first.ends_at,
        )


def test_an_open_proposal_has_no_campaign(coffee, toys, coffee_actor, coffee_wecom, place):
    proposal = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 100)]
    )
    with pytest.raises(ValueError):
        services.campaign_create(actor=coffee_actor, proposal=proposal)
    assert not Campaign.objects.exists()


def test_a_refused_accept_leaves_no_campaign(coffee, toys, coffee_actor, toys_actor, coffee_wecom, place):
    proposal = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 100)]
    )
    with pytest.raises(ValidationError):  # only one side gives something
        services.proposal_accept(actor=toys_actor, proposal=proposal, revision=1)
    assert not Campaign.objects.exists() and not TrackingLink.objects.exists()


def test_windows_are_the_placement_dates_in_shanghai_time(campaign, window):
    start = window[0]
    assert window_of(start, start) == (local_midnight(start), local_midnight(start + timedelta(days=1)))
    assert local_midnight(start).utcoffset() == timedelta(hours=8)
    # the earliest start (Bean House's, day 0) and the latest end (Tiny Toys', day 8 inclusive)
    assert campaign.starts_at == local_midnight(start)
    assert campaign.ends_at == local_midnight(start + timedelta(days=9))
    for cp in CampaignPlacement.objects.select_related("placement"):
        assert (cp.starts_at, cp.ends_at) == window_of(cp.placement.starts_on, cp.placement.ends_on)


def test_missing_campaigns_are_created_for_accepted_proposals(accepted):
    campaign = accepted.campaign
    TrackingLink.objects.all().delete()
    CampaignPlacement.objects.all().delete()
    campaign.delete()
    assert services.campaigns_create_missing() == 1
    assert Campaign.objects.get().proposal == accepted and TrackingLink.objects.count() == 3
    assert services.campaigns_create_missing() == 0


# --- the beat: scheduled → live → completed ------------------------------------------------------
def events_of(campaign, type_):
    return DomainEvent.objects.filter(proposal=campaign.proposal, type=type_)


def test_not_live_before_the_earliest_window_starts(campaign):
    assert services.campaigns_advance(now=campaign.starts_at - timedelta(seconds=1)).live == 0
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SCHEDULED


def test_live_at_the_earliest_window_start_audited_and_in_the_outbox(campaign):
    at = campaign.starts_at
    assert services.campaigns_advance(now=at).live == 1
    campaign.refresh_from_db()
    assert (campaign.state, campaign.live_at) == (CampaignState.LIVE, at)
    audits = AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_LIVE, object_id=str(campaign.pk))
    assert {a.brand_id for a in audits} == {campaign.brand_a_id, campaign.brand_b_id}
    (event,) = events_of(campaign, EventType.CAMPAIGN_LIVE)
    assert event.actor_brand_id is None and event.payload["campaign"] == campaign.pk
    assert sorted(event.brand_ids) == sorted([campaign.brand_a_id, campaign.brand_b_id])
    assert services.campaigns_advance(now=at + timedelta(hours=1)) == services.campaigns_advance(now=at)
    assert events_of(campaign, EventType.CAMPAIGN_LIVE).count() == 1, "advancing again changes nothing"


def test_completed_only_once_every_window_ended_and_the_confirmation_window_lapsed(campaign, settings):
    settings.EXCHANGE_DELIVERY_CONFIRM_DAYS = 7
    services.campaigns_advance(now=campaign.starts_at)
    ended = campaign.ends_at
    for now in (ended - timedelta(seconds=1), ended, ended + timedelta(days=7) - timedelta(seconds=1)):
        assert services.campaigns_advance(now=now).completed == 0, now
    lapsed = ended + timedelta(days=7)
    assert services.campaigns_advance(now=lapsed).completed == 1
    campaign.refresh_from_db()
    assert (campaign.state, campaign.completed_at) == (CampaignState.COMPLETED, lapsed)
    assert events_of(campaign, EventType.CAMPAIGN_COMPLETED).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_COMPLETED).count() == 2


def test_confirmed_deliveries_complete_the_campaign_when_the_last_window_ends(campaign):
    services.campaigns_advance(now=campaign.starts_at)
    CampaignPlacement.objects.update(delivery_confirmed_at=campaign.ends_at)  # the delivery-report seam
    assert services.campaigns_advance(now=campaign.ends_at - timedelta(seconds=1)).completed == 0
    assert services.campaigns_advance(now=campaign.ends_at).completed == 1


def test_one_unconfirmed_placement_holds_completion_until_its_confirmation_window_lapses(campaign, settings):
    settings.EXCHANGE_DELIVERY_CONFIRM_DAYS = 3
    services.campaigns_advance(now=campaign.starts_at)
    last = CampaignPlacement.objects.order_by("-ends_at").first()
    CampaignPlacement.objects.exclude(pk=last.pk).update(delivery_confirmed_at=campaign.starts_at)
    assert services.campaigns_advance(now=campaign.ends_at).completed == 0
    assert services.campaigns_advance(now=last.ends_at + timedelta(days=3)).completed == 1


def test_a_campaign_whose_run_lies_in_the_past_goes_live_and_completes_in_one_pass(campaign):
    result = services.campaigns_advance(now=campaign.ends_at + timedelta(days=30))
    assert (result.live, result.completed) == (1, 1)
    types = list(
        DomainEvent.objects.filter(proposal=campaign.proposal)
        .filter(type__startswith="campaign.")
        .values_list("type", flat=True)
    )
    assert types == [EventType.CAMPAIGN_LIVE, EventType.CAMPAIGN_COMPLETED]


def test_campaign_notices_read_for_each_brand(campaign, coffee, toys):
    services.campaigns_advance(now=campaign.ends_at + timedelta(days=30))
    live = events_of(campaign, EventType.CAMPAIGN_LIVE).get()
    done = events_of(campaign, EventType.CAMPAIGN_COMPLETED).get()
    assert notice_line(live, coffee, "en") == "The swap campaign between Bean House and Tiny Toys is live"
    assert notice_line(done, toys, "en") == "The swap campaign between Tiny Toys and Bean House has ended"


def test_the_beat_task_creates_missing_campaigns_and_advances(accepted):
    from exchange.tasks import campaigns_advance_task

    campaign = accepted.campaign
    Campaign.objects.filter(pk=campaign.pk).update(
        starts_at=timezone.now() - timedelta(days=1)
    )  # as if the first window had started
    campaigns_advance_task.delay()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.LIVE


def test_a_campaign_is_visible_to_its_two_brands_and_admins_only(campaign, coffee_actor, toys_actor, admin_actor):
    from exchange.selectors import campaign_visible
    from partners.actors import Actor
    from tests.factories import BrandFactory, MembershipFactory, UserFactory

    stranger = MembershipFactory(brand=BrandFactory(), user=UserFactory(username="x@else.example")).user
    for actor in (coffee_actor, toys_actor, admin_actor):
        assert list(campaign_visible(actor=actor)) == [campaign]
    assert not campaign_visible(actor=Actor(user=stranger)).exists()
    assert not campaign_visible(actor=Actor()).exists()
