"""The exchange through GraphQL alone: two brands go from nothing to an accepted swap (one with
an API key, one signed in), every refusal is a typed error, outsiders see nothing, and the
proposals list costs the same number of queries for 1 or many proposals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange import services
from exchange.models import Proposal
from partners.actors import Actor
from partners.models import ApiKeyScope, ChannelType, Role
from partners.services import api_key_create
from tests.api.conftest import gid, session, with_key
from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category

PROPOSAL_FIELDS = """
  id state revisionNumber turn mySide needsMyAction
  initiator { slug name } counterparty { slug name }
  balance { initiatorValue { amountCents currency formatted } counterpartyValue { amountCents }
            gap { amountCents } gapPercent lighter balanced }
  revisions { number authorSide message
    placements { id side format channelType channelLabel quantity unit
                 rate { amountCents } value { amountCents } startsOn endsOn } }
  messages { side body authorName }
  suggestions { channelType quantity }
"""

PROPOSE = (
    "mutation($brand: ID!, $counterparty: ID!, $placements: [PlacementInput!]!, $message: String) {"
    " proposeSwap(brand: $brand, counterparty: $counterparty, placements: $placements, message: $message) {"
    f" proposal {{ {PROPOSAL_FIELDS} }} errors {{ field code message }} }} }}"
)
COUNTER = (
    "mutation($proposal: ID!, $revision: Int!, $placements: [PlacementInput!]!) {"
    " counterProposal(proposal: $proposal, revision: $revision, placements: $placements) {"
    f" proposal {{ {PROPOSAL_FIELDS} }} errors {{ field code message }} }} }}"
)
ACCEPT = """
mutation($proposal: ID!, $revision: Int!) {
  acceptProposal(proposal: $proposal, revision: $revision) { proposal { id state } errors { field code message } } }"""


def _dates():
    start = timezone.localdate() + timedelta(days=3)
    return start.isoformat(), (start + timedelta(days=6)).isoformat()


@pytest.fixture
def coffee_key(coffee, coffee_owner):
    _key, raw = api_key_create(
        actor=Actor(user=coffee_owner), brand=coffee, name="CRM", scopes=[ApiKeyScope.READ, ApiKeyScope.WRITE]
    )
    return with_key(raw)


def _propose(gql, coffee, toys, channel, quantity=20_000):
    start, end = _dates()
    return gql(
        PROPOSE,
        {
            "brand": gid("Brand", coffee.pk),
            "counterparty": gid("Brand", toys.pk),
            "placements": [
                {
                    "channel": gid("Channel", channel.pk),
                    "format": "DIRECT_MESSAGE",
                    "quantity": quantity,
                    "startsOn": start,
                    "endsOn": end,
                }
            ],
            "message": "会员互推？",
        },
    )["proposeSwap"]


def test_two_brands_reach_an_accepted_swap_through_graphql(
    coffee, toys, coffee_key, toys_owner, coffee_wecom, toys_wecom
):
    result = _propose(coffee_key, coffee, toys, coffee_wecom)
    assert result["errors"] == []
    proposal = result["proposal"]
    assert proposal["state"] == "PROPOSED" and proposal["turn"] == "COUNTERPARTY" and proposal["mySide"] == "INITIATOR"
    value = proposal["balance"]["initiatorValue"]
    assert value == {"amountCents": 240_000, "currency": "CNY", "formatted": "¥2,400.00"}
    assert isinstance(proposal["revisions"][0]["placements"][0]["quantity"], int)

    toys_gql = session(toys_owner)
    inbox = toys_gql("{ proposals(first: 10, needsMyAction: true) { edges { node { id } } } unreadNotificationCount }")
    assert [e["node"]["id"] for e in inbox["proposals"]["edges"]] == [proposal["id"]]

    start, end = _dates()
    theirs = proposal["revisions"][0]["placements"][0]["id"]
    countered = toys_gql(
        COUNTER,
        {
            "proposal": proposal["id"],
            "revision": 1,
            "placements": [
                {"basedOn": theirs, "format": "DIRECT_MESSAGE", "quantity": 15_000, "startsOn": start, "endsOn": end},
                {
                    "channel": gid("Channel", toys_wecom.pk),
                    "format": "DIRECT_MESSAGE",
                    "quantity": 15_000,
                    "startsOn": start,
                    "endsOn": end,
                },
            ],
        },
    )["counterProposal"]
    assert countered["errors"] == []
    assert countered["proposal"]["revisionNumber"] == 2 and countered["proposal"]["balance"]["balanced"] is True
    assert countered["proposal"]["turn"] == "INITIATOR"

    accepted = coffee_key(ACCEPT, {"proposal": proposal["id"], "revision": 2})["acceptProposal"]
    assert accepted == {"proposal": {"id": proposal["id"], "state": "ACCEPTED"}, "errors": []}


def test_guard_errors_are_typed_and_change_nothing(coffee, toys, coffee_key, coffee_wecom, toys_wecom):
    result = _propose(coffee_key, coffee, toys, toys_wecom)  # not our channel
    assert result["proposal"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("placements[0].channel", "not_your_channel")]
    rival = BrandFactory(category=category("beverage.coffee"))
    result = _propose(coffee_key, coffee, rival, coffee_wecom)
    assert [e["code"] for e in result["errors"]] == ["competitor"]
    assert Proposal.objects.count() == 0


def test_stale_revision_and_out_of_turn(coffee, toys, coffee_key, toys_owner, coffee_wecom):
    proposal = _propose(coffee_key, coffee, toys, coffee_wecom)["proposal"]
    out_of_turn = coffee_key(ACCEPT, {"proposal": proposal["id"], "revision": 1})["acceptProposal"]
    assert [e["code"] for e in out_of_turn["errors"]] == ["not_your_turn"]
    stale = session(toys_owner)(ACCEPT, {"proposal": proposal["id"], "revision": 7})["acceptProposal"]
    assert [e["code"] for e in stale["errors"]] == ["stale_revision"]


def test_read_only_key_cannot_propose(coffee, toys, coffee_owner, coffee_wecom):
    _key, raw = api_key_create(actor=Actor(user=coffee_owner), brand=coffee, name="ro", scopes=[ApiKeyScope.READ])
    result = _propose(with_key(raw), coffee, toys, coffee_wecom)
    assert [e["code"] for e in result["errors"]] == ["read_only_key"]


def test_outsiders_and_anonymous_see_nothing(coffee, toys, coffee_key, coffee_wecom, anon):
    proposal = _propose(coffee_key, coffee, toys, coffee_wecom)["proposal"]
    outsider = MembershipFactory(brand=BrandFactory(), role=Role.OWNER, user=UserFactory()).user
    for gql in (session(outsider), anon):
        data = gql(
            "query($id: ID!) { proposal(id: $id) { id } proposals(first: 5) { edges { node { id } } } }",
            {"id": proposal["id"]},
        )
        assert data == {"proposal": None, "proposals": {"edges": []}}
    refused = session(outsider)(ACCEPT, {"proposal": proposal["id"], "revision": 1})["acceptProposal"]
    assert [e["code"] for e in refused["errors"]] == ["not_found"]


def test_admin_reads_every_proposal_but_cannot_negotiate(coffee, toys, coffee_key, coffee_wecom, as_admin):
    proposal = _propose(coffee_key, coffee, toys, coffee_wecom)["proposal"]
    data = as_admin("query($id: ID!) { proposal(id: $id) { id mySide needsMyAction } }", {"id": proposal["id"]})
    assert data["proposal"] == {"id": proposal["id"], "mySide": None, "needsMyAction": False}
    refused = as_admin(ACCEPT, {"proposal": proposal["id"], "revision": 1})["acceptProposal"]
    assert [e["code"] for e in refused["errors"]] == ["permission_denied"]


def test_wrong_id_types_are_refused(coffee_key):
    errors = coffee_key.errors(f'{{ proposal(id: "{gid("Brand", 1)}") {{ id }} }}')
    assert errors[0]["extensions"]["code"] == "invalid_id"


def selectors_tolerance():
    from exchange.selectors import tolerance_percent

    return tolerance_percent()


def test_proposals_list_query_count_is_constant(coffee, coffee_owner, coffee_wecom):
    def make_partner_proposal():
        partner = BrandFactory(category=category("toys.collectibles"))
        owner = MembershipFactory(brand=partner, role=Role.OWNER, user=UserFactory()).user
        channel = ChannelFactory(brand=partner, type=ChannelType.WECOM, size=10_000, active_rate=0.5)
        start = timezone.localdate() + timedelta(days=2)
        p = services.proposal_create(
            actor=Actor(user=coffee_owner),
            brand=coffee,
            counterparty=partner,
            placements=[
                {
                    "channel_id": coffee_wecom.pk,
                    "format": "direct_message",
                    "quantity": 100,
                    "starts_on": start,
                    "ends_on": start,
                }
            ],
        )
        (theirs,) = p.revisions.get().placements.all()
        services.proposal_counter(
            actor=Actor(user=owner),
            proposal=p,
            revision=1,
            placements=[
                {
                    "based_on_id": theirs.pk,
                    "format": "direct_message",
                    "quantity": 100,
                    "starts_on": start,
                    "ends_on": start,
                },
                {
                    "channel_id": channel.pk,
                    "format": "direct_message",
                    "quantity": 100,
                    "starts_on": start,
                    "ends_on": start,
                },
            ],
        )
        services.proposal_message_send(actor=Actor(user=owner), proposal=p, body="hi")

    gql = session(coffee_owner)
    query = f"{{ proposals(first: 50) {{ edges {{ node {{ {PROPOSAL_FIELDS} }} }} }} }}"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            gql(query)
        return len(ctx.captured_queries)

    make_partner_proposal()
    selectors_tolerance()  # the settlement tolerance is read once, then cached (not per row)
    one = count()
    for _ in range(4):
        make_partner_proposal()
    assert count() == one


def test_channel_rates_and_admin_rate_change(coffee_key, as_admin):
    rates = coffee_key("{ channelRates { channelType format unit basis rate { amountCents } } }")["channelRates"]
    sms = next(r for r in rates if r["format"] == "SMS")
    assert sms == {
        "channelType": "SMS",
        "format": "SMS",
        "unit": "MESSAGE",
        "basis": 1000,
        "rate": {"amountCents": 5000},
    }
    mutation = """mutation { setChannelRate(channelType: SMS, format: SMS, rateCents: 6000, source: "gateway quote 2026") {
        channelRate { rate { amountCents } } errors { code } } }"""
    assert coffee_key(mutation)["setChannelRate"]["errors"] == [{"code": "permission_denied"}]
    assert as_admin(mutation)["setChannelRate"] == {"channelRate": {"rate": {"amountCents": 6000}}, "errors": []}


def test_preview_values_a_draft_and_suggests_from_own_channels(coffee, toys, coffee_owner, coffee_wecom, coffee_group):
    start, end = _dates()
    data = session(coffee_owner)(
        """query($b: ID!, $c: ID!, $p: [PlacementInput!]!) { previewSwap(brand: $b, counterparty: $c, placements: $p) {
            lines { value { amountCents } errors { field message } } balance { lighter gap { amountCents } } } }""",
        {
            "b": gid("Brand", coffee.pk),
            "c": gid("Brand", toys.pk),
            "p": [
                {
                    "channel": gid("Channel", coffee_wecom.pk),
                    "format": "DIRECT_MESSAGE",
                    "quantity": 1000,
                    "startsOn": start,
                    "endsOn": end,
                },
                {
                    "channel": gid("Channel", coffee_wecom.pk),
                    "format": "DIRECT_MESSAGE",
                    "quantity": 10**8,
                    "startsOn": start,
                    "endsOn": end,
                },
            ],
        },
    )["previewSwap"]
    assert data["lines"][0] == {"value": {"amountCents": 12_000}, "errors": []}
    assert data["lines"][1]["value"] is None and data["lines"][1]["errors"][0]["field"] == "quantity"
    assert data["balance"] == {"lighter": "COUNTERPARTY", "gap": {"amountCents": 12_000}}


def test_inbox_through_the_api(coffee, toys, coffee_key, coffee_wecom, toys_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _propose(coffee_key, coffee, toys, coffee_wecom)
    gql = session(toys_owner)
    data = gql("{ unreadNotificationCount notifications(first: 5) { edges { node { id type title read } } } }")
    assert data["unreadNotificationCount"] == 1
    (edge,) = data["notifications"]["edges"]
    assert edge["node"]["type"] == "PROPOSAL_CREATED" and edge["node"]["read"] is False
    marked = gql("mutation { markNotificationsRead { count errors { code } } }")["markNotificationsRead"]
    assert marked == {"count": 1, "errors": []}


def test_a_member_who_left_sees_nothing_through_old_notifications(
    coffee, toys, coffee_key, coffee_wecom, toys_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal = _propose(coffee_key, coffee, toys, coffee_wecom)["proposal"]
    gql = session(toys_owner)
    query = "{ notifications(first: 5) { edges { node { proposal { id revisions { message } } } } } }"
    assert gql(query)["notifications"]["edges"][0]["node"]["proposal"]["id"] == proposal["id"]
    toys.memberships.filter(user=toys_owner).delete()
    assert gql(query)["notifications"]["edges"] == []
    assert gql("query($id: ID!) { proposal(id: $id) { id } }", {"id": proposal["id"]})["proposal"] is None


def test_message_authors_show_no_email_or_key_name(coffee, toys, coffee_owner, coffee_wecom, toys_owner):
    from partners.models import User

    User.objects.filter(pk=toys_owner.pk).update(display_name="")
    _key, raw = api_key_create(
        actor=Actor(user=coffee_owner), brand=coffee, name="INTERNAL-CRM-PROD", scopes=["read", "write"]
    )
    proposal = _propose(with_key(raw), coffee, toys, coffee_wecom)["proposal"]
    send = (
        'mutation($p: ID!) { sendProposalMessage(proposal: $p, body: "hi") { message { authorName } errors { code } } }'
    )
    assert with_key(raw)(send, {"p": proposal["id"]})["sendProposalMessage"]["message"]["authorName"] == ""
    assert session(toys_owner)(send, {"p": proposal["id"]})["sendProposalMessage"]["message"]["authorName"] == ""
    text = str(session(toys_owner)(f'{{ proposal(id: "{proposal["id"]}") {{ messages {{ authorName }} }} }}'))
    assert "INTERNAL-CRM-PROD" not in text and toys_owner.email not in text


def test_mark_notifications_read_refused_for_a_key_is_an_error_not_an_internal_one(coffee_key, anon):
    query = "mutation { markNotificationsRead { count errors { code } } }"
    assert coffee_key(query)["markNotificationsRead"] == {"count": 0, "errors": [{"code": "permission_denied"}]}
    assert anon(query)["markNotificationsRead"]["errors"] == [{"code": "unauthenticated"}]


def test_the_recommendation_slot_of_a_proposal_is_shown_to_the_proposing_brand_and_admins_only(
    coffee, toys, coffee_key, toys_owner, admin_user, coffee_wecom
):
    from matching.models import Recommendation, SlotType

    Recommendation.objects.create(brand=coffee, partner=toys, rank=10, score=0.5, slot=SlotType.EXPLORE)
    proposal = _propose(coffee_key, coffee, toys, coffee_wecom)["proposal"]
    query = "query($id: ID!) { proposal(id: $id) { recommendationSlot } }"
    seen = {
        who: gql(query, {"id": proposal["id"]})["proposal"]["recommendationSlot"]
        for who, gql in (("coffee", coffee_key), ("toys", session(toys_owner)), ("admin", session(admin_user)))
    }
    assert seen == {"coffee": "EXPLORE", "toys": None, "admin": "EXPLORE"}
    # not recommended: null for everyone
    Proposal.objects.filter(pk=Proposal.objects.get().pk).update(slot="")
    assert coffee_key(query, {"id": proposal["id"]})["proposal"]["recommendationSlot"] is None
