"""Tracking links: one unguessable short code per campaign placement, the destination it leads
to (the promoted brand's https landing URL with UTM parameters), the landing URL a promoted
brand may set per leg, and the cached code → link entry the redirect reads without touching
the database.

Codes are 10 base62 characters drawn from ``secrets`` (~60 bits: guessing one live code takes
~10^17 tries), never derived from an id; the database keeps them unique and a collision is
retried with a fresh draw.
"""

from __future__ import annotations

import logging
import secrets
import string
import time
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote_plus, urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext as _

from exchange import conf
from exchange.errors import ExchangeError as E
from exchange.models import Campaign, CampaignLeg, CampaignPlacement, TrackingLink
from exchange.services.common import can_act_for, error
from exchange.states import CampaignState
from partners.actors import Actor
from partners.models import AuditAction, Brand
from partners.services import audit

log = logging.getLogger(__name__)

CODE_ALPHABET = string.ascii_letters + string.digits  # base62
CODE_LENGTH = 10
CODE_ATTEMPTS = 5
CLICK_PARAM = "hl_click"
UTM_SOURCE = "huiliu"
_OURS = frozenset({"utm_source", "utm_medium", "utm_campaign", "utm_content", CLICK_PARAM})
MAX_LANDING = 500
_MISS = 0  # cached for an unknown code, so probing codes costs no database query either
MISS_SECONDS = 300
# Each process also keeps what it read for a few seconds: a click then waits on Redis once (its
# XADD), not twice. A changed link reaches the other processes within MEMO_SECONDS.
MEMO_SECONDS = 5.0
MEMO_MAX = 50_000
_memo: dict[str, tuple[float, LinkEntry | None]] = {}
_clock = time.monotonic


# --- codes and destinations ----------------------------------------------------------------------
def code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def destination_build(landing: str, *, campaign_id: int, channel_type: str, format: str) -> str:
    """``landing`` with ``utm_source=huiliu``, ``utm_medium`` (the channel type),
    ``utm_campaign`` (the campaign id) and ``utm_content`` (the format) appended. The landing's
    own query parameters are kept byte for byte, except any of ours it already carries (they
    would contradict the link's), and its fragment stays last."""
    parts = urlsplit(landing)
    kept = [p for p in parts.query.split("&") if p and unquote_plus(p.split("=", 1)[0]) not in _OURS]
    ours = urlencode(
        {"utm_source": UTM_SOURCE, "utm_medium": channel_type, "utm_campaign": campaign_id, "utm_content": format}
    )
    # As a URI (non-ASCII percent-encoded once, here): the redirect sends it as it is.
    return iri_to_uri(parts._replace(query="&".join([*kept, ours])).geturl())


def with_click(destination: str, click_hex: str) -> str:
    """The destination with ``hl_click=<click id>`` (before the fragment; the query is never
    empty since the UTM parameters are in it)."""
    head, sep, fragment = destination.partition("#")
    return f"{head}&{CLICK_PARAM}={click_hex}{sep}{fragment}"


def landing_clean(url: str) -> str:
    """A landing URL a link may lead to: absolute https, no credentials, at most 500 characters."""
    url = (url or "").strip()
    if not url:
        raise error("landing_url", _("Enter the landing page address."), E.LANDING_INVALID)
    if len(url) > MAX_LANDING:
        raise error(
            "landing_url",
            _("A landing page address is at most %(n)d characters.") % {"n": MAX_LANDING},
            E.LANDING_INVALID,
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        raise error("landing_url", _("This is not a valid web address."), E.LANDING_INVALID) from None
    if parts.scheme.lower() != "https":
        raise error("landing_url", _("The landing page must be an https:// address."), E.LANDING_NOT_HTTPS)
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        raise error("landing_url", _("This is not a valid web address."), E.LANDING_INVALID) from None
    if parts.username is not None or parts.password is not None:
        raise error(
            "landing_url", _("A landing page address cannot contain a user name or password."), E.LANDING_INVALID
        )
    return url


def landing_default(brand: Brand) -> str:
    """The brand's website when it is a valid https address, else nothing (the leg then leads to
    the brand's page on Huiliu until its people set a landing URL)."""
    try:
        return landing_clean(brand.website)
    except ValidationError:
        return ""


def landing_of(leg: CampaignLeg) -> str:
    return leg.landing_url or f"{settings.SITE_URL}/brands/{leg.promoted.slug}/"


# --- links -----------------------------------------------------------------------------------
def links_create(*, campaign: Campaign, placements: Iterable[CampaignPlacement]) -> list[TrackingLink]:
    """One link per campaign placement (inside the caller's transaction)."""
    links = []
    for cp in placements:
        destination = destination_build(
            landing_of(cp.leg),
            campaign_id=campaign.pk,
            channel_type=cp.placement.channel_type,
            format=cp.placement.format,
        )
        for attempt in range(CODE_ATTEMPTS):
            try:
                with transaction.atomic():  # a savepoint: a colliding code costs one retry, not the campaign
                    link = TrackingLink.objects.create(
                        placement=cp, leg=cp.leg, code=code_new(), destination=destination
                    )
                break
            except IntegrityError:
                if attempt == CODE_ATTEMPTS - 1 or TrackingLink.objects.filter(placement=cp).exists():
                    raise
        links.append(link)
    codes = [link.code for link in links]
    transaction.on_commit(lambda: link_cache_forget(codes))  # drop any cached "unknown code"
    return links


@transaction.atomic
def leg_landing_set(*, actor: Actor, leg: CampaignLeg, url: str) -> CampaignLeg:
    """The promoted brand's owner or marketer sets where the leg's links lead (https only).
    Every link of the leg is re-pointed and its cached entry dropped once this commits.
    Refused once the campaign is completed."""
    leg = CampaignLeg.objects.select_for_update().select_related("campaign", "promoted").get(pk=leg.pk)
    if not can_act_for(actor, leg.promoted_id):
        raise error(
            "leg", _("Only the promoted brand's owner or marketers can set its landing page."), E.PERMISSION_DENIED
        )
    if leg.campaign.state not in (CampaignState.SCHEDULED, CampaignState.LIVE):
        raise error("leg", _("This campaign has ended; its links can no longer change."), E.CAMPAIGN_CLOSED)
    url = landing_clean(url)
    old = leg.landing_url
    leg.landing_url = url
    leg.save(update_fields=["landing_url"])
    now = timezone.now()
    links = list(leg.links.select_related("placement__placement"))
    for link in links:
        link.destination = destination_build(
            url,
            campaign_id=leg.campaign_id,
            channel_type=link.placement.placement.channel_type,
            format=link.placement.placement.format,
        )
        link.updated_at = now
    TrackingLink.objects.bulk_update(links, ["destination", "updated_at"])
    audit(
        actor=actor,
        action=AuditAction.CAMPAIGN_LANDING_SET,
        obj=leg.campaign,
        brand=leg.promoted,
        data={"leg": leg.pk, "old": old, "new": url},
    )
    codes = [link.code for link in links]
    transaction.on_commit(lambda: link_cache_forget(codes))
    return leg


# --- the redirect's cached view of a link ----------------------------------------------------------
class LinkEntry(NamedTuple):
    link_id: int
    leg_id: int
    code: str
    destination: str
    starts_ts: float  # the placement's window, as Unix times
    ends_ts: float


def _cache_key(code: str) -> str:
    return f"exchange:link:{code}"


def link_entry(code: str) -> LinkEntry | None:
    """What the redirect needs about ``code``: from this process's memory (a few seconds), else
    from the cache (no query), else one query whose answer — found or not — is cached. A cache
    that fails is skipped, never fatal."""
    now = _clock()
    memo = _memo.get(code)
    if memo is not None and memo[0] > now:
        return memo[1]
    entry = _link_entry_shared(code)
    if len(_memo) >= MEMO_MAX:
        _memo.clear()  # probing with random codes must not grow it without bound
    _memo[code] = (now + MEMO_SECONDS, entry)
    return entry


def _link_entry_shared(code: str) -> LinkEntry | None:
    key = _cache_key(code)
    try:
        cached = cache.get(key)
    except Exception:  # the cache is an optimisation; the redirect must answer without it
        log.warning("link cache unavailable", exc_info=True)
        cached = None
    if cached == _MISS:
        return None
    if cached is not None:
        return LinkEntry(*cached)
    row = (
        TrackingLink.objects.filter(code=code)
        .values_list("pk", "leg_id", "code", "destination", "placement__starts_at", "placement__ends_at")
        .first()
    )
    entry = None
    if row is not None:
        entry = LinkEntry(row[0], row[1], row[2], row[3], row[4].timestamp(), row[5].timestamp())
    try:
        if entry is None:
            cache.set(key, _MISS, MISS_SECONDS)
        else:
            cache.set(key, tuple(entry), conf.link_cache_seconds())
    except Exception:
        log.warning("link cache unavailable", exc_info=True)
    return entry


def link_cache_forget(codes: Iterable[str]) -> None:
    codes = list(codes)
    for code in codes:
        _memo.pop(code, None)
    keys = [_cache_key(c) for c in codes]
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except Exception:
        # A stale entry would keep the old destination until it expires: say so loudly.
        log.error("could not drop cached tracking links %s", keys, exc_info=True)


def link_memo_clear() -> None:
    """Forget this process's memory of links (tests)."""
    _memo.clear()
