"""Swap proposals on the web: the composer (new and counter) and its live preview, the inbox and
notifications, a proposal's page and the actions on it — every write through the exchange's
services, every refusal shown on the page with nothing written."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exchange import services
from exchange.models import Notification, Placement, Proposal, ProposalMessage, Revision
from exchange.states import DeclineReason, ProposalState
from partners.actors import Actor
from partners.models import BrandStatus, Role
from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category
from tests.frontend.conftest import errors_in

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    """A browser of its own for ``user``, in English (two people negotiate in one test)."""
    browser = Client()
    browser.cookies.load({"django_language": "en"})
    browser.force_login(user)
    return browser


@pytest.fixture
def amy(coffee_owner):
    return signed_in(coffee_owner)


@pytest.fixture
def bo(toys_owner):
    return signed_in(toys_owner)


def new_url(brand, partner) -> str:
    return reverse("frontend:proposal_new", args=[brand.slug]) + f"?partner={partner.slug}"


def page(pk: int) -> str:
    return reverse("frontend:proposal", args=[pk])


def row(prefix: str, window, **fields) -> dict[str, str]:
    data = {"starts_on": window[0].isoformat(), "ends_on": window[1].isoformat(), **fields}
    return {f"{prefix}-{k}": str(v) for k, v in data.items()}


def counts():
    return Proposal.objects.count(), Revision.objects.count(), Placement.objects.count()


@pytest.fixture
def proposed(coffee, toys, coffee_actor, coffee_wecom, toys_wecom, place):
    """Bean House offers 20,000 WeCom 1-to-1 messages to Tiny Toys (toys has a channel too)."""
    return services.proposal_create(
        actor=coffee_actor,
        brand=coffee,
        counterparty=toys,
        placements=[place(coffee_wecom, 20_000)],
        message="一起做个会员互推？",
        asks=[{"format": "direct_message", "quantity": 20_000}],
    )


# --- the composer ----------------------------------------------------------------------------------
def test_composer_offers_only_my_channels_and_formats_with_a_rate(
    amy, coffee, toys, coffee_wecom, toys_wecom, coffee_group
):
    html = amy.get(new_url(coffee, toys)).content.decode()
    picks = set(re.findall(r'<option value="(\d+):(\w+)"', html))
    assert (str(coffee_wecom.pk), "direct_message") in picks and (str(coffee_group.pk), "group_broadcast") in picks
    assert {c for c, _f in picks} == {str(coffee_wecom.pk), str(coffee_group.pk)}  # never the partner's
    assert (str(coffee_wecom.pk), "sms") not in picks  # WeCom has no SMS rate
    assert "50,000 active" in html  # the channel's active audience (100,000 × 50%)
    assert 'hx-post="' + reverse("frontend:proposal_new_preview", args=[coffee.slug]) in html
    assert "data-recalculate" in html  # without JavaScript the form still recalculates


def test_composer_is_for_owners_and_marketers_only(client, coffee, toys, coffee_wecom, admin_user):
    viewer = MembershipFactory(brand=coffee, role=Role.VIEWER, user=UserFactory()).user
    client.force_login(viewer)
    assert client.get(new_url(coffee, toys)).status_code == 404  # like every brand page a viewer may not edit
    client.force_login(admin_user)
    assert client.get(new_url(coffee, toys)).status_code == 403  # admins never negotiate for a brand
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get(new_url(coffee, toys)).status_code == 404


def test_composer_for_an_unknown_partner_is_404(amy, coffee):
    assert amy.get(reverse("frontend:proposal_new", args=[coffee.slug]) + "?partner=nobody").status_code == 404
    assert amy.get(new_url(coffee, coffee)).status_code == 404


def test_posting_the_composer_creates_the_proposal(amy, coffee, toys, coffee_wecom, window):
    data = {
        "partner": toys.slug,
        **row("mine-0", window, pick=f"{coffee_wecom.pk}:direct_message", quantity="20,000", notes="周二晚八点"),
        "ask-0-format": "direct_message",
        "ask-0-quantity": "15000",
        "message": "一起做个会员互推？",
        "send": "1",
    }
    response = amy.post(new_url(coffee, toys), data)
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and response["Location"] == page(proposal.pk)
    (p,) = proposal.revisions.get().placements.all()
    assert (p.channel, p.quantity, p.notes) == (coffee_wecom, 20_000, "周二晚八点")
    assert proposal.revisions.get().asks == [{"format": "direct_message", "quantity": 15_000, "note": ""}]
    assert "Your proposal was sent to Tiny Toys." in amy.get(response["Location"]).content.decode()


def test_quantity_above_capacity_comes_back_with_the_message_and_writes_nothing(
    amy, coffee, toys, coffee_wecom, window
):
    data = {"partner": toys.slug, **row("mine-0", window, pick=f"{coffee_wecom.pk}:direct_message", quantity=60_000)}
    response = amy.post(new_url(coffee, toys), data)
    assert response.status_code == 200
    assert "This channel can carry at most 50,000 for this placement." in errors_in(response)
    assert counts() == (0, 0, 0)
    html = response.content.decode()
    assert 'name="mine-0-quantity" value="60000"' in html  # the form comes back as sent


def test_a_window_in_the_past_and_an_empty_side_are_refused(amy, coffee, toys, coffee_wecom):
    past = timezone.localdate() - timedelta(days=3)
    data = {
        "partner": toys.slug,
        **row("mine-0", (past, past), pick=f"{coffee_wecom.pk}:direct_message", quantity=1000),
    }
    assert "The window cannot start in the past." in errors_in(amy.post(new_url(coffee, toys), data))
    response = amy.post(new_url(coffee, toys), {"partner": toys.slug, "message": "hi"})
    assert "Offer at least one placement of your own." in errors_in(response)
    assert counts() == (0, 0, 0)


def test_a_posted_channel_of_another_brand_is_refused(amy, coffee, toys, coffee_wecom, toys_wecom, window):
    data = {"partner": toys.slug, **row("mine-0", window, pick=f"{toys_wecom.pk}:direct_message", quantity=1000)}
    shown = unescape(errors_in(amy.post(new_url(coffee, toys), data)))
    assert "This channel is not one of your brand's channels." in shown
    assert counts() == (0, 0, 0)


def test_recalculate_shows_the_balance_and_writes_nothing(amy, coffee, toys, coffee_wecom, window):
    data = {
        "partner": toys.slug,
        **row("mine-0", window, pick=f"{coffee_wecom.pk}:direct_message", quantity=20_000),
        "recalculate": "1",
    }
    html = amy.post(new_url(coffee, toys), data).content.decode()
    assert "¥2,400.00" in html  # 20,000 reach × ¥120 CPM
    assert counts() == (0, 0, 0)


def test_preview_returns_the_balance_each_line_and_a_suggestion(amy, coffee, toys, coffee_wecom, coffee_group, window):
    url = reverse("frontend:proposal_new_preview", args=[coffee.slug])
    data = {"partner": toys.slug, **row("mine-0", window, pick=f"{coffee_wecom.pk}:direct_message", quantity=20_000)}
    response = amy.post(url, data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html  # a partial
    assert "data-meter-left>¥2,400.00<" in html and "data-meter-right>¥0.00<" in html
    assert 'data-gap-cents="240000"' in html and "100.0%" in html
    assert 'id="mine-0-hint" hx-swap-oob="true"' in html and "capacity 50,000 reach" in html
    assert counts() == (0, 0, 0)


def test_preview_shows_each_lines_error(amy, coffee, toys, coffee_wecom, window):
    url = reverse("frontend:proposal_new_preview", args=[coffee.slug])
    data = {"partner": toys.slug, **row("mine-0", window, pick=f"{coffee_wecom.pk}:direct_message", quantity=99_999)}
    html = amy.post(url, data).content.decode()
    assert "This channel can carry at most 50,000 for this placement." in html


def test_preview_suggests_how_the_lighter_side_closes_the_gap(bo, proposed, toys_wecom):
    url = reverse("frontend:proposal_counter_preview", args=[proposed.pk])
    (theirs,) = proposed.revisions.get().placements.all()
    start, end = theirs.starts_on, theirs.ends_on
    data = {
        "revision": "1",
        **row("their-0", (start, end), based_on=theirs.pk, keep="1", format="direct_message", quantity=20_000),
    }
    html = bo.post(url, data).content.decode()
    assert "Close the gap from your own channels:" in html
    assert f'data-pick="{toys_wecom.pk}:direct_message" data-quantity="20000"' in html


def test_the_composer_explains_a_competitor_and_an_open_proposal(amy, coffee, toys, proposed):
    rival = BrandFactory(slug="rival-beans", name_en="Rival Beans", category=category("beverage.coffee"))
    html = amy.get(new_url(coffee, rival)).content.decode()
    assert "Rival Beans competes with Bean House" in html and 'id="composer"' not in html
    html = amy.get(new_url(coffee, toys)).content.decode()
    assert "already have an open proposal" in html and page(proposed.pk) in html


def test_a_pending_brand_cannot_propose(amy, coffee, toys, coffee_wecom):
    coffee.status = BrandStatus.PENDING
    coffee.save()
    html = amy.get(new_url(coffee, toys)).content.decode()
    assert "only approved brands can swap" in html


# --- counter ---------------------------------------------------------------------------------------
def test_counter_composer_lists_their_placements_to_keep_or_change(bo, proposed, toys_wecom, coffee_wecom):
    html = bo.get(reverse("frontend:proposal_counter", args=[proposed.pk])).content.decode()
    (theirs,) = proposed.revisions.get().placements.all()
    assert f'name="their-0-based_on" value="{theirs.pk}"' in html
    assert 'name="their-0-keep" value="1" checked' in html
    assert f'value="{toys_wecom.pk}:direct_message"' in html and f'value="{coffee_wecom.pk}:' not in html
    assert 'name="revision" value="1"' in html
    assert "Tiny Toys offers" in html and "Bean House offers" in html and "Bean House would like" in html


def test_counter_changes_their_reach_and_adds_mine(bo, proposed, toys, toys_wecom, window):
    (theirs,) = proposed.revisions.get().placements.all()
    data = {
        "revision": "1",
        **row("their-0", window, based_on=theirs.pk, keep="1", format="direct_message", quantity=15_000),
        **row("mine-0", window, pick=f"{toys_wecom.pk}:direct_message", quantity=15_000),
        "message": "我们这边 1.5 万",
    }
    response = bo.post(reverse("frontend:proposal_counter", args=[proposed.pk]), data)
    assert response.status_code == 302, errors_in(response)
    proposed.refresh_from_db()
    assert (proposed.state, proposed.revision_number, proposed.turn_id) == (
        ProposalState.COUNTERED,
        2,
        proposed.initiator_id,
    )
    rev = proposed.revisions.get(number=2)
    assert sorted(rev.placements.values_list("brand_id", "quantity")) == sorted(
        [(proposed.initiator_id, 15_000), (toys.pk, 15_000)]
    )


def test_counter_removing_their_placement(bo, proposed, toys_wecom, window):
    (theirs,) = proposed.revisions.get().placements.all()
    data = {
        "revision": "1",
        **row("their-0", window, based_on=theirs.pk, format="direct_message", quantity=20_000),  # keep unticked
        **row("mine-0", window, pick=f"{toys_wecom.pk}:direct_message", quantity=10_000),
    }
    assert bo.post(reverse("frontend:proposal_counter", args=[proposed.pk]), data).status_code == 302
    assert list(proposed.revisions.get(number=2).placements.values_list("brand_id", flat=True)) == [toys_wecom.brand_id]


def test_counter_on_a_stale_revision_is_refused(bo, proposed, toys_wecom, window):
    data = {"revision": "7", **row("mine-0", window, pick=f"{toys_wecom.pk}:direct_message", quantity=10_000)}
    response = bo.post(reverse("frontend:proposal_counter", args=[proposed.pk]), data)
    assert "The proposal has changed since you saw it (now revision 1)." in errors_in(response)
    assert Revision.objects.count() == 1


def test_counter_out_of_turn_goes_back_to_the_proposal(amy, proposed):
    response = amy.get(reverse("frontend:proposal_counter", args=[proposed.pk]))
    assert response.status_code == 302 and response["Location"] == page(proposed.pk)
    assert amy.post(reverse("frontend:proposal_counter_preview", args=[proposed.pk]), {}).status_code == 409


# --- the proposal page and its actions ------------------------------------------------------------------
def test_another_brands_user_gets_404(client, proposed):
    stranger_brand = BrandFactory(category=category("pets"))
    stranger = MembershipFactory(brand=stranger_brand, role=Role.OWNER, user=UserFactory()).user
    client.force_login(stranger)
    for name in ("frontend:proposal", "frontend:proposal_counter"):
        assert client.get(reverse(name, args=[proposed.pk])).status_code == 404
    for name in (
        "frontend:proposal_accept",
        "frontend:proposal_decline",
        "frontend:proposal_withdraw",
        "frontend:proposal_message",
        "frontend:proposal_counter_preview",
    ):
        assert client.post(reverse(name, args=[proposed.pk]), {"revision": "1", "body": "x"}).status_code == 404
    assert Proposal.objects.get().state == ProposalState.PROPOSED and not ProposalMessage.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, proposed):
    assert client.get(page(proposed.pk))["Location"].startswith(reverse("frontend:login"))
    assert client.get(reverse("frontend:inbox"))["Location"].startswith(reverse("frontend:login"))


def test_proposal_page_shows_the_offer_whose_turn_and_exactly_my_actions(bo, amy, proposed):
    html = bo.get(page(proposed.pk)).content.decode()
    assert "Your turn." in html and "Proposed" in html
    assert 'id="accept-form"' in html and 'name="revision" value="1"' in html
    assert 'id="counter-link"' in html and 'id="decline-form"' in html and 'id="withdraw-form"' not in html
    assert "¥2,400.00" in html and "20,000 reach" in html and "1-to-1 message" in html
    assert "Audiences do not fit" in html  # the decline reasons are labels, never codes
    html = amy.get(page(proposed.pk)).content.decode()
    assert "Waiting for Tiny Toys." in html
    assert 'id="withdraw-form"' in html and 'id="accept-form"' not in html and 'id="decline-form"' not in html


def test_staff_read_the_proposal_without_actions(client, admin_user, proposed):
    client.cookies.load({"django_language": "en"})
    client.force_login(admin_user)
    html = client.get(page(proposed.pk)).content.decode()
    assert "Read-only: platform admins watch negotiations" in html
    assert "accept-form" not in html and "withdraw-form" not in html and "message-form" not in html
    assert "一起做个会员互推？" in html


def test_accept_through_the_view(bo, proposed, toys_wecom, window, coffee_actor, place):
    (theirs,) = proposed.revisions.get().placements.all()
    services.proposal_counter(
        actor=Actor(user=proposed.counterparty.memberships.get().user),
        proposal=proposed,
        revision=1,
        placements=[place(None, 20_000, based_on=theirs), place(toys_wecom, 20_000)],
    )
    services.proposal_counter(
        actor=coffee_actor,
        proposal=proposed,
        revision=2,
        placements=[
            place(None, 20_000, based_on=p) if p.brand_id == proposed.counterparty_id else place(p.channel, 18_000)
            for p in proposed.revisions.get(number=2).placements.all()
        ],
    )
    response = bo.post(reverse("frontend:proposal_accept", args=[proposed.pk]), {"revision": "3"})
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.state == ProposalState.ACCEPTED
    html = bo.get(page(proposed.pk)).content.decode()
    assert "Swap accepted: revision 3 is now the agreement with Bean House." in html
    assert "Accepted on" in html and 'id="accept-form"' not in html


def test_accepting_a_stale_revision_says_so_clearly(bo, proposed):
    response = bo.post(reverse("frontend:proposal_accept", args=[proposed.pk]), {"revision": "0"}, follow=True)
    assert "The proposal has changed since you saw it (now revision 1). Reload and try again." in errors_in(response)
    assert Proposal.objects.get().state == ProposalState.PROPOSED


def test_accepting_a_one_sided_offer_is_refused(bo, proposed):
    response = bo.post(reverse("frontend:proposal_accept", args=[proposed.pk]), {"revision": "1"}, follow=True)
    assert "Both brands must offer at least one placement" in errors_in(response)


def test_decline_needs_a_reason_then_records_it(bo, proposed):
    url = reverse("frontend:proposal_decline", args=[proposed.pk])
    response = bo.post(url, {"revision": "1", "reason": ""})
    assert response.status_code == 200 and "Choose why you decline." in errors_in(response)
    response = bo.post(url, {"revision": "1", "reason": DeclineReason.OTHER, "note": " "})
    assert "Say in a few words why you decline." in errors_in(response)
    assert Proposal.objects.get().state == ProposalState.PROPOSED
    response = bo.post(url, {"revision": "1", "reason": DeclineReason.TIMING, "note": "Q3 再说"})
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.state, proposal.decline_reason, proposal.decline_note) == (
        ProposalState.DECLINED,
        "timing",
        "Q3 再说",
    )
    html = bo.get(page(proposal.pk)).content.decode()
    assert "The timing does not work" in html and "Q3 再说" in html


def test_withdraw_is_for_the_initiator(amy, bo, proposed):
    assert bo.post(reverse("frontend:proposal_withdraw", args=[proposed.pk])).status_code == 403
    assert amy.post(reverse("frontend:proposal_withdraw", args=[proposed.pk])).status_code == 302
    assert Proposal.objects.get().state == ProposalState.WITHDRAWN
    assert "You withdrew the proposal." in amy.get(page(proposed.pk)).content.decode()


def test_staff_posting_an_action_is_refused(client, admin_user, proposed):
    client.force_login(admin_user)
    assert client.post(reverse("frontend:proposal_withdraw", args=[proposed.pk])).status_code == 403
    assert client.post(reverse("frontend:proposal_message", args=[proposed.pk]), {"body": "hi"}).status_code == 403
    assert Proposal.objects.get().state == ProposalState.PROPOSED and not ProposalMessage.objects.exists()


def test_messages_through_the_view(bo, amy, proposed):
    url = reverse("frontend:proposal_message", args=[proposed.pk])
    assert "Write a message." in errors_in(bo.post(url, {"body": "  "}))
    response = bo.post(url, {"body": "可以，下周二？"})
    assert response.status_code == 302 and response["Location"].endswith("#thread")
    assert ProposalMessage.objects.get().brand == proposed.counterparty
    assert "可以，下周二？" in amy.get(page(proposed.pk)).content.decode()


def test_revision_history_highlights_what_changed(bo, proposed, toys_wecom, window):
    (theirs,) = proposed.revisions.get().placements.all()
    data = {
        "revision": "1",
        **row("their-0", window, based_on=theirs.pk, keep="1", format="direct_message", quantity=15_000),
        **row("mine-0", window, pick=f"{toys_wecom.pk}:direct_message", quantity=15_000),
    }
    bo.post(reverse("frontend:proposal_counter", args=[proposed.pk]), data)
    html = bo.get(page(proposed.pk)).content.decode()
    history = html.split('id="history"')[1].split('id="thread"')[0]
    assert "Revision 2" in history and "2 changes" in history
    assert re.search(r'data-field="quantity"><del>20,000 reach</del> → 15,000 reach', history)
    assert 'data-status="added"' in history and 'data-status="changed"' in history


# --- the inbox and notifications -----------------------------------------------------------------------
def test_inbox_tabs(bo, amy, proposed):
    html = bo.get(reverse("frontend:inbox")).content.decode()
    assert f'data-proposal="{proposed.pk}"' in html and "Your turn" in html
    assert f'data-proposal="{proposed.pk}"' not in bo.get(reverse("frontend:inbox") + "?box=waiting").content.decode()
    assert f'data-proposal="{proposed.pk}"' in amy.get(reverse("frontend:inbox") + "?box=waiting").content.decode()
    assert f'data-proposal="{proposed.pk}"' not in amy.get(reverse("frontend:inbox")).content.decode()
    Proposal.objects.filter(pk=proposed.pk).update(state=ProposalState.EXPIRED, turn=None)
    assert f'data-proposal="{proposed.pk}"' in amy.get(reverse("frontend:inbox") + "?box=closed").content.decode()


def test_staff_inbox_lists_only_their_own_brands(client, admin_user, proposed):
    client.force_login(admin_user)
    html = client.get(reverse("frontend:inbox") + "?box=waiting").content.decode()
    assert f'data-proposal="{proposed.pk}"' not in html


def test_nav_shows_needs_action_and_unread_counts(bo, amy, proposed):
    from exchange.models import DomainEvent

    for event in DomainEvent.objects.all():
        services.event_dispatch(event_id=event.pk)
    html = bo.get(reverse("frontend:dashboard")).content.decode()
    assert 'data-action-count="1"' in html and 'data-unread-count="1"' in html
    html = amy.get(reverse("frontend:dashboard")).content.decode()
    assert "data-action-count" not in html and "data-unread-count" not in html


def test_notifications_open_marks_one_read_and_mark_all(bo, proposed, toys_owner):
    from exchange.models import DomainEvent

    services.proposal_message_send(
        actor=Actor(user=proposed.initiator.memberships.get().user),
        proposal=proposed,
        body="在吗？",
    )
    for event in DomainEvent.objects.all():
        services.event_dispatch(event_id=event.pk)
    notes = list(Notification.objects.filter(user=toys_owner).order_by("id"))
    assert len(notes) == 2
    html = bo.get(reverse("frontend:inbox")).content.decode()
    assert "Bean House proposes a traffic swap to Tiny Toys" in html
    assert "New message from Bean House about your swap" in html
    response = bo.get(reverse("frontend:notification_open", args=[notes[0].pk]))
    assert response["Location"] == page(proposed.pk)
    assert [n.read_at is not None for n in Notification.objects.filter(user=toys_owner).order_by("id")] == [True, False]
    bo.post(reverse("frontend:notifications_read"))
    assert not Notification.objects.filter(user=toys_owner, read_at__isnull=True).exists()


def test_someone_elses_notification_is_404(amy, bo, proposed, toys_owner):
    from exchange.models import DomainEvent

    services.event_dispatch(event_id=DomainEvent.objects.get().pk)
    note = Notification.objects.get(user=toys_owner)
    assert amy.get(reverse("frontend:notification_open", args=[note.pk])).status_code == 404
    assert Notification.objects.get(pk=note.pk).read_at is None


# --- entry points ------------------------------------------------------------------------------------------
def test_brand_page_offers_the_composer_to_members_of_an_approved_brand(amy, client, coffee, toys):
    html = amy.get(reverse("frontend:brand_public", args=[toys.slug])).content.decode()
    assert new_url(coffee, toys) in html
    assert "data-propose" not in amy.get(reverse("frontend:brand_public", args=[coffee.slug])).content.decode()
    client.logout()
    assert "data-propose" not in client.get(reverse("frontend:brand_public", args=[toys.slug])).content.decode()


# --- platform admins -------------------------------------------------------------------------------------------
def test_rate_table_and_edit_are_staff_only_and_audited(client, admin_user, coffee_owner):
    from exchange.models import ChannelRate
    from partners.models import AuditAction, AuditEvent

    rate = ChannelRate.objects.get(channel_type="wecom", format="direct_message")
    url = reverse("frontend:rate_edit", args=[rate.pk])
    client.force_login(coffee_owner)
    assert client.get(reverse("frontend:rates")).status_code == 403
    assert client.post(url, {"rate": "150", "source": "x"}).status_code == 403
    client.logout()
    assert client.get(reverse("frontend:rates"))["Location"].startswith(reverse("frontend:login"))

    client.cookies.load({"django_language": "en"})
    client.force_login(admin_user)
    html = client.get(reverse("frontend:rates")).content.decode()
    assert "WeCom contacts" in html and "1-to-1 message" in html and "¥120.00" in html and "per 1,000 reach" in html
    assert "Rate (¥)" in client.get(url).content.decode()
    response = client.post(url, {"rate": "-1", "source": ""})
    assert response.status_code == 200 and ChannelRate.objects.get(pk=rate.pk).rate_cents == 120_00
    response = client.post(url, {"rate": "150.50", "source": "2025 survey"})
    assert response.status_code == 302
    rate.refresh_from_db()
    assert (rate.rate_cents, rate.source, rate.updated_by) == (150_50, "2025 survey", admin_user)
    event = AuditEvent.objects.get(action=AuditAction.CHANNEL_RATE_SET)
    assert event.actor == admin_user and event.data["old_cents"] == 120_00 and event.data["new_cents"] == 150_50
    html = client.get(reverse("frontend:rates")).content.decode()
    assert "¥150.50" in html and str(admin_user) in html
    assert "¥120.00 → " in client.get(url).content.decode()


def test_admin_proposal_list_is_staff_only(client, admin_user, coffee_owner, proposed):
    client.force_login(coffee_owner)
    assert client.get(reverse("frontend:proposals_admin")).status_code == 403
    client.force_login(admin_user)
    html = client.get(reverse("frontend:proposals_admin")).content.decode()
    assert f'data-proposal="{proposed.pk}"' in html
    html = client.get(reverse("frontend:proposals_admin") + "?state=accepted").content.decode()
    assert f'data-proposal="{proposed.pk}"' not in html


def test_channels_of_a_second_brand_never_reach_the_composer(amy, coffee, toys, coffee_wecom, coffee_owner):
    other = BrandFactory(slug="second", category=category("pets"))
    MembershipFactory(brand=other, role=Role.OWNER, user=coffee_owner)
    theirs = ChannelFactory(brand=other, type="wecom", size=10_000, active_rate=0.5)
    html = amy.get(new_url(coffee, toys)).content.decode()
    assert f'value="{theirs.pk}:' not in html and f'value="{coffee_wecom.pk}:direct_message"' in html


# --- query counts -----------------------------------------------------------------------------------------------
def queries(browser, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser.get(url)  # once first: these browsers are English, which the first page records once
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_inbox_query_count_does_not_grow_with_proposals(amy, coffee, coffee_actor, coffee_wecom, place):
    from exchange.models import DomainEvent

    codes = ["pets", "fitness", "food.bakery", "food.snacks", "toys.collectibles", "beauty"]

    def propose(n):
        for code in codes[:n]:
            partner = BrandFactory(category=category(code))
            services.proposal_create(
                actor=coffee_actor, brand=coffee, counterparty=partner, placements=[place(coffee_wecom, 1000)]
            )
            # the partner answers with a message: a notification for Amy
            owner = MembershipFactory(brand=partner, role=Role.OWNER, user=UserFactory()).user
            services.proposal_message_send(actor=Actor(user=owner), proposal=Proposal.objects.latest("id"), body="hi")
        for event in DomainEvent.objects.filter(dispatched_at__isnull=True):
            services.event_dispatch(event_id=event.pk)

    url = reverse("frontend:inbox") + "?box=waiting"
    propose(2)
    few = queries(amy, url)
    propose(6)
    assert Proposal.objects.count() == 8 and "data-proposal" in amy.get(url).content.decode()
    assert queries(amy, url) == few


def test_proposal_page_query_count_does_not_grow_with_revisions(
    amy, proposed, coffee, toys, toys_wecom, coffee_actor, toys_actor, place
):
    def counter(actor, brand, number, quantity):
        """``brand`` answers revision ``number``: every placement at ``quantity`` (its own by
        channel, the other side's carried over), plus a message."""
        current = list(proposed.revisions.get(number=number).placements.all())
        specs = [
            place(p.channel, quantity) if p.brand_id == brand.pk else place(None, quantity, based_on=p) for p in current
        ]
        if brand == toys and all(p.brand_id != toys.pk for p in current):
            specs.append(place(toys_wecom, quantity))
        services.proposal_counter(actor=actor, proposal=proposed, revision=number, placements=specs)
        services.proposal_message_send(actor=actor, proposal=proposed, body=f"r{number + 1}")

    counter(toys_actor, toys, 1, 15_000)
    few = queries(amy, page(proposed.pk))
    counter(coffee_actor, coffee, 2, 14_000)
    counter(toys_actor, toys, 3, 13_000)
    counter(coffee_actor, coffee, 4, 12_000)
    assert proposed.revisions.count() == 5
    assert queries(amy, page(proposed.pk)) == few
