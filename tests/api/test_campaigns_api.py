"""Campaigns through GraphQL: both parties (members and API keys) and staff read a campaign with
its legs, placements, links and metrics; another brand and anonymous callers get nothing; a
page of campaigns costs the same number of queries for 2 or 10."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange import services
from exchange.models import Campaign
from exchange.services.rollups import day_of, rollup_add, visitors_add
from partners.actors import Actor
from partners.models import ApiKeyScope, ChannelType, Role
from partners.services import api_key_create
from tests.api.conftest import Gql, gid, session, with_key
from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category

pytestmark = pytest.mark.django_db

CAMPAIGN_FIELDS = """
  id state stateLabel proposalId startsAt endsAt liveAt completedAt
  brandA { slug name } brandB { slug }
  legs { id promoter { slug } promoted { slug } landingUrl
    placements { id startsAt endsAt deliveryConfirmedAt
      placement { format quantity unit value { amountCents } startsOn endsOn side }
      link { code url destination } } }
  metrics(granularity: DAY) { granularity days
    legs { leg { id promoter { slug } }
      series { day clicks filteredClicks uniqueVisitors newMembers conversions gmvCents deliveredReach
               deliveredValueCents }
      totals { clicks filteredClicks uniqueVisitors newMembers conversions gmv { amountCents formatted }
               deliveredReach promisedReach deliveredValue { amountCents } promisedValue { amountCents }
               costPerNewMember { amountCents } } }
    reciprocity { aToB { amountCents } bToA { amountCents } gap { amountCents } gapPercent lighter balanced } }
"""
ONE = f"query($id: ID!) {{ campaign(id: $id) {{ {CAMPAIGN_FIELDS} }} }}"
LIST = f"{{ campaigns(first: 20) {{ edges {{ node {{ {CAMPAIGN_FIELDS} }} }} }} }}"


def _started(campaign: Campaign, days_ago: int = 2) -> Campaign:
    """The campaign as if it had started ``days_ago`` days ago (a proposal cannot be made for
    a past window)."""
    Campaign.objects.filter(pk=campaign.pk).update(starts_at=timezone.now() - timedelta(days=days_ago))
    return Campaign.objects.get(pk=campaign.pk)


@pytest.fixture
def outsider(db):
    brand = BrandFactory(slug="outsider", category=category("food.bakery"))
    return MembershipFactory(brand=brand, role=Role.OWNER, user=UserFactory()).user


def test_both_parties_read_the_campaign_with_legs_links_and_metrics(campaign, coffee_owner, toys_owner, coffee):
    campaign = _started(campaign)
    a_leg = campaign.legs.get(promoter=coffee)
    today = day_of(timezone.now())
    rollup_add({(a_leg.pk, today): {"clicks": 7, "new_members": 2, "delivered_value_cents": 10_001}})
    visitors_add([(a_leg.pk, today, "v1"), (a_leg.pk, today, "v2")])
    for user in (coffee_owner, toys_owner):
        data = session(user)(ONE, {"id": gid("Campaign", campaign.pk)})["campaign"]
        assert data["state"] == "SCHEDULED" and data["brandA"]["slug"] == "bean-house"
        assert data["proposalId"] == gid("Proposal", campaign.proposal_id)
        legs = data["legs"]
        assert [leg["promoter"]["slug"] for leg in legs] == ["bean-house", "tiny-toys"]
        assert len(legs[0]["placements"]) == 2 and len(legs[1]["placements"]) == 1
        link = legs[0]["placements"][0]["link"]
        assert link["url"].endswith(f"/t/{link['code']}") and "utm_source=huiliu" in link["destination"]
        metrics = data["metrics"]
        assert metrics["granularity"] == "DAY" and len(metrics["days"]) == 3 and metrics["days"][-1] == str(today)
        a = metrics["legs"][0]
        assert a["leg"]["promoter"]["slug"] == "bean-house"
        assert [d["clicks"] for d in a["series"]] == [0, 0, 7]
        assert a["totals"]["uniqueVisitors"] == 2 and a["totals"]["promisedReach"] == 25_000
        assert a["totals"]["costPerNewMember"] == {"amountCents": 5_001}  # 10,001 ÷ 2, half up
        assert metrics["legs"][1]["totals"]["costPerNewMember"] is None
        r = metrics["reciprocity"]
        assert (r["aToB"]["amountCents"], r["bToA"]["amountCents"], r["gap"]["amountCents"]) == (10_001, 0, 10_001)
        assert r["gapPercent"] == 100.0 and r["lighter"] == "COUNTERPARTY" and r["balanced"] is False


def test_a_read_key_of_a_party_and_staff_see_the_campaign(campaign, toys, toys_owner, admin_user):
    _key, raw = api_key_create(actor=Actor(user=toys_owner), brand=toys, name="BI", scopes=[ApiKeyScope.READ])
    for caller in (with_key(raw), session(admin_user)):
        edges = caller(LIST)["campaigns"]["edges"]
        assert [e["node"]["id"] for e in edges] == [gid("Campaign", campaign.pk)]
        assert caller(ONE, {"id": gid("Campaign", campaign.pk)})["campaign"]["legs"]


def test_another_brand_and_anonymous_callers_see_nothing(campaign, outsider):
    for caller in (session(outsider), Gql(Client())):
        assert caller(LIST)["campaigns"]["edges"] == []
        assert caller(ONE, {"id": gid("Campaign", campaign.pk)})["campaign"] is None


def test_filters_by_state_and_brand(campaign, coffee_owner, toys):
    gql = session(coffee_owner)

    def ids(args: str) -> list[str]:
        return [
            e["node"]["id"]
            for e in gql(f"{{ campaigns(first: 5, {args}) {{ edges {{ node {{ id }} }} }} }}")["campaigns"]["edges"]
        ]

    mine = [gid("Campaign", campaign.pk)]
    assert ids("state: SCHEDULED") == mine and ids("state: LIVE") == []
    assert ids(f'brand: "{gid("Brand", toys.pk)}"') == mine
    other = BrandFactory(slug="somebody-else")
    assert ids(f'brand: "{gid("Brand", other.pk)}"') == []


def test_wrong_id_types_and_bad_arguments_are_typed_errors(campaign, coffee_owner):
    gql = session(coffee_owner)
    errors = gql.errors(ONE, {"id": gid("Proposal", campaign.proposal_id)})
    assert errors[0]["extensions"]["code"] == "invalid_id"
    errors = gql.errors("{ campaigns { edges { node { id } } } }")
    assert errors[0]["extensions"]["code"] == "pagination_required"
    errors = gql.errors(f'{{ campaigns(first: 5, brand: "{gid("Campaign", 1)}") {{ edges {{ node {{ id }} }} }} }}')
    assert errors[0]["extensions"]["code"] == "invalid_id"


def _campaign_with_a_new_partner(coffee, coffee_owner, coffee_wecom) -> Campaign:
    partner = BrandFactory(category=category("toys.collectibles"))
    owner = MembershipFactory(brand=partner, role=Role.OWNER, user=UserFactory()).user
    channel = ChannelFactory(brand=partner, type=ChannelType.WECOM, size=10_000, active_rate=0.5)
    start = timezone.localdate() + timedelta(days=2)
    spec = {"format": "direct_message", "quantity": 100, "starts_on": start, "ends_on": start + timedelta(days=2)}
    proposal = services.proposal_create(
        actor=Actor(user=coffee_owner),
        brand=coffee,
        counterparty=partner,
        placements=[{**spec, "channel_id": coffee_wecom.pk}],
    )
    (theirs,) = proposal.revisions.get().placements.all()
    services.proposal_counter(
        actor=Actor(user=owner),
        proposal=proposal,
        revision=1,
        placements=[{**spec, "based_on_id": theirs.pk}, {**spec, "channel_id": channel.pk}],
    )
    accepted = services.proposal_accept(actor=Actor(user=coffee_owner), proposal=proposal, revision=2)
    campaign = _started(accepted.campaign)
    today = day_of(timezone.now())
    for leg in campaign.legs.all():
        rollup_add({(leg.pk, today): {"clicks": 3, "new_members": 1}})
        visitors_add([(leg.pk, today, "v")])
    return campaign


def test_campaigns_list_query_count_is_constant(coffee, coffee_owner, coffee_wecom):
    gql = session(coffee_owner)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            edges = gql(LIST)["campaigns"]["edges"]
        assert all(e["node"]["metrics"]["legs"][0]["totals"]["clicks"] == 3 for e in edges)
        return len(edges), len(ctx.captured_queries)

    for _ in range(2):
        _campaign_with_a_new_partner(coffee, coffee_owner, coffee_wecom)
    from exchange.selectors import tolerance_percent

    tolerance_percent()  # the settlement tolerance: read once, then cached (never per row)
    rows, two = count()
    assert rows == 2
    for _ in range(8):
        _campaign_with_a_new_partner(coffee, coffee_owner, coffee_wecom)
    rows, ten = count()
    assert rows == 10 and ten == two
