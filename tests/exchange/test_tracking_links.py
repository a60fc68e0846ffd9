"""Tracking links: unguessable codes, destinations with UTM parameters and the landing page's own
query kept, https-only landing URLs set by the promoted brand, and the cached entry the
redirect reads dropped whenever a link changes."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from exchange import services
from exchange.errors import ExchangeError as E
from exchange.models import CampaignLeg, TrackingLink
from exchange.services import tracking
from exchange.states import CampaignState
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent, Role
from tests.factories import MembershipFactory, UserFactory

CODE = re.compile(r"^[0-9A-Za-z]{10}$")


def codes(exc: ValidationError) -> set[str]:
    return {e.code for errors in exc.error_dict.values() for e in errors}


# --- codes ----------------------------------------------------------------------------------------
def test_codes_are_ten_base62_characters_never_repeated_nor_sequential():
    drawn = [tracking.code_new() for _ in range(5000)]
    assert all(CODE.match(c) for c in drawn)
    assert len(set(drawn)) == len(drawn)
    chars = Counter("".join(drawn))
    assert len(chars) == 62, "every base62 character is used"
    # no shared prefixes as a counter would produce
    assert max(Counter(c[:3] for c in drawn).values()) < 10


def test_every_placement_of_each_leg_gets_its_own_link(campaign):
    links = list(TrackingLink.objects.select_related("placement__leg"))
    assert len(links) == 3 and len({link.code for link in links}) == 3
    assert all(CODE.match(link.code) for link in links)
    assert all(link.leg_id == link.placement.leg_id for link in links)


def test_a_colliding_code_is_drawn_again(campaign, monkeypatch):
    link, other = TrackingLink.objects.all()[:2]
    draws = iter([other.code, other.code, "Fresh12345"])
    monkeypatch.setattr(tracking, "code_new", lambda: next(draws))
    placement = link.placement
    link.delete()
    (new,) = tracking.links_create(campaign=campaign, placements=[placement])
    assert new.code == "Fresh12345"


# --- destinations -------------------------------------------------------------------------------
def test_destination_carries_utm_parameters_and_keeps_the_landings_own_query():
    url = tracking.destination_build(
        "https://shop.example.com/land?ref=abc&q=%E5%92%96%E5%95%A1+x&utm_source=old&empty=#top",
        campaign_id=42,
        channel_type="wecom",
        format="direct_message",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("https", "shop.example.com", "/land", "top")
    assert parts.query.startswith("ref=abc&q=%E5%92%96%E5%95%A1+x&empty=&"), "kept byte for byte"
    assert dict(parse_qsl(parts.query, keep_blank_values=True)) == {
        "ref": "abc",
        "q": "咖啡 x",
        "empty": "",
        "utm_source": "huiliu",
        "utm_medium": "wecom",
        "utm_campaign": "42",
        "utm_content": "direct_message",
    }


def test_the_click_id_goes_before_the_fragment():
    dest = tracking.destination_build("https://a.example/p#frag", campaign_id=1, channel_type="sms", format="sms")
    assert tracking.with_click(dest, "ab" * 16).endswith("&utm_content=sms&hl_click=" + "ab" * 16 + "#frag")


def test_links_lead_to_the_promoted_brands_https_website(coffee, toys, accepted):
    leg = CampaignLeg.objects.get(promoted=toys)
    assert leg.landing_url == "" or leg.landing_url.startswith("https://")
    for link in TrackingLink.objects.filter(leg__promoted=toys).select_related("placement__placement"):
        params = dict(parse_qsl(urlsplit(link.destination).query))
        assert params["utm_campaign"] == str(accepted.campaign.pk)
        assert params["utm_medium"] == link.placement.placement.channel_type
        assert params["utm_content"] == link.placement.placement.format


def test_the_default_landing_is_the_website_only_when_https(coffee, toys, settings):
    toys.website = "https://tinytoys.example/"
    assert tracking.landing_default(toys) == "https://tinytoys.example/"
    toys.website = "http://tinytoys.example/"
    assert tracking.landing_default(toys) == ""
    leg = CampaignLeg(promoter=coffee, promoted=toys, landing_url="")
    settings.SITE_URL = "https://huiliu.example"
    assert tracking.landing_of(leg) == "https://huiliu.example/brands/tiny-toys/"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://shop.example.com/", E.LANDING_NOT_HTTPS),
        ("javascript:alert(1)", E.LANDING_NOT_HTTPS),
        ("//shop.example.com/", E.LANDING_NOT_HTTPS),
        ("ftp://shop.example.com/", E.LANDING_NOT_HTTPS),
        ("https://", E.LANDING_INVALID),
        ("https://exa mple.com/", E.LANDING_INVALID),
        ("https://user:pw@shop.example.com/", E.LANDING_INVALID),
        ("https://shop.example.com/" + "a" * 500, E.LANDING_INVALID),
        ("", E.LANDING_INVALID),
    ],
)
def test_landing_urls_must_be_https_and_valid(url, code):
    with pytest.raises(ValidationError) as exc:
        tracking.landing_clean(url)
    assert codes(exc.value) == {code}


def test_landing_clean_accepts_https_with_query_and_fragment():
    assert tracking.landing_clean(" https://shop.example.com/a?b=1#c ") == "https://shop.example.com/a?b=1#c"


# --- setting a leg's landing URL ------------------------------------------------------------------
@pytest.fixture
def toys_leg(campaign, toys):
    return CampaignLeg.objects.get(campaign=campaign, promoted=toys)


def test_the_promoted_brand_sets_its_landing_and_every_link_follows(toys_leg, toys_actor, toys):
    codes_before = {link.code: link.destination for link in toys_leg.links.all()}
    services.leg_landing_set(actor=toys_actor, leg=toys_leg, url="https://tinytoys.example/swap?src=hl")
    toys_leg.refresh_from_db()
    assert toys_leg.landing_url == "https://tinytoys.example/swap?src=hl"
    for link in toys_leg.links.all():
        assert link.code in codes_before
        assert link.destination.startswith("https://tinytoys.example/swap?src=hl&utm_source=huiliu&")
    audit = AuditEvent.objects.get(action=AuditAction.CAMPAIGN_LANDING_SET)
    assert audit.brand == toys and audit.data["new"] == toys_leg.landing_url


def test_a_changed_landing_drops_the_cached_links_on_commit(toys_leg, toys_actor, django_capture_on_commit_callbacks):
    link = toys_leg.links.first()
    assert tracking.link_entry(link.code).destination == link.destination
    with django_capture_on_commit_callbacks(execute=True):
        services.leg_landing_set(actor=toys_actor, leg=toys_leg, url="https://tinytoys.example/new")
    assert tracking.link_entry(link.code).destination.startswith("https://tinytoys.example/new?")


def test_a_marketer_of_the_promoted_brand_may_set_it(toys_leg, toys):
    marketer = MembershipFactory(brand=toys, role=Role.MARKETER, user=UserFactory(username="mk@toys.example")).user
    services.leg_landing_set(actor=Actor(user=marketer), leg=toys_leg, url="https://tinytoys.example/m")


def refused(code, **kwargs):
    before = (list(TrackingLink.objects.values_list("destination", flat=True)), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.leg_landing_set(**kwargs)
    assert codes(exc.value) == {code}
    assert (list(TrackingLink.objects.values_list("destination", flat=True)), AuditEvent.objects.count()) == before


def test_the_promoter_cannot_set_the_other_brands_landing(toys_leg, coffee_actor):
    refused(E.PERMISSION_DENIED, actor=coffee_actor, leg=toys_leg, url="https://evil.example/")


def test_a_viewer_cannot_set_it(toys_leg, toys):
    viewer = MembershipFactory(brand=toys, role=Role.VIEWER, user=UserFactory(username="v@toys.example")).user
    refused(E.PERMISSION_DENIED, actor=Actor(user=viewer), leg=toys_leg, url="https://tinytoys.example/")


def test_an_http_landing_is_refused(toys_leg, toys_actor):
    refused(E.LANDING_NOT_HTTPS, actor=toys_actor, leg=toys_leg, url="http://tinytoys.example/")


def test_a_completed_campaigns_links_no_longer_change(toys_leg, toys_actor, campaign):
    campaign.state = CampaignState.COMPLETED
    campaign.save()
    refused(E.CAMPAIGN_CLOSED, actor=toys_actor, leg=toys_leg, url="https://tinytoys.example/")


# --- the cached entry -----------------------------------------------------------------------------
def test_a_cached_link_costs_no_query_and_an_unknown_code_is_cached_too(campaign, django_assert_num_queries):
    cache.clear()
    link = TrackingLink.objects.select_related("placement").first()
    with django_assert_num_queries(1):
        entry = tracking.link_entry(link.code)
    assert (entry.link_id, entry.leg_id, entry.destination) == (link.pk, link.leg_id, link.destination)
    assert (entry.starts_ts, entry.ends_ts) == (
        link.placement.starts_at.timestamp(),
        link.placement.ends_at.timestamp(),
    )
    with django_assert_num_queries(0):
        assert tracking.link_entry(link.code) == entry
    with django_assert_num_queries(1):
        assert tracking.link_entry("Unknown123") is None
    with django_assert_num_queries(0):
        assert tracking.link_entry("Unknown123") is None


def test_a_chinese_landing_address_is_sent_as_a_uri():
    landing = tracking.landing_clean("https://shop.example.com/咖啡?q=豆")
    dest = tracking.destination_build(landing, campaign_id=7, channel_type="wecom", format="banner")
    assert dest.startswith("https://shop.example.com/%E5%92%96%E5%95%A1?q=%E8%B1%86&utm_source=huiliu&")
    assert dest.isascii()


def test_another_process_sees_a_changed_link_once_its_memory_expires(campaign, monkeypatch):
    link = TrackingLink.objects.first()
    old = tracking.link_entry(link.code).destination
    TrackingLink.objects.filter(pk=link.pk).update(destination="https://changed.example/?utm_source=huiliu")
    cache.delete(f"exchange:link:{link.code}")  # what the changing process does, shared cache only
    assert tracking.link_entry(link.code).destination == old, "remembered for a few seconds"
    later = tracking._clock() + tracking.MEMO_SECONDS + 0.1
    monkeypatch.setattr(tracking, "_clock", lambda: later)
    assert tracking.link_entry(link.code).destination == "https://changed.example/?utm_source=huiliu"
