"""Fixtures for the matching tests: a fresh per-process market cache, and brand builders."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from matching import market, ranker, refresh
from partners.models import BrandStatus, ChannelType
from tests.factories import BrandFactory, ChannelFactory, category

AUDIENCE = {
    "gender": {"female": 0.7, "male": 0.3},
    "age": {"18-24": 0.3, "25-34": 0.5, "35-44": 0.1, "45+": 0.1},
    "city_tier": {"tier1": 0.5, "new_tier1": 0.3, "tier2": 0.1, "tier3_plus": 0.1},
    "regions": ["CN-SH", "CN-BJ"],
}


@pytest.fixture(autouse=True)
def fresh_matching_state(db):
    """Each test starts with no cached market/model (the DB was rolled back under them)."""
    cache.clear()
    market.reset_cache()
    refresh._artefact_cache.update(key=None, artefact=ranker.HEURISTIC, version=0)
    yield
    market.reset_cache()
    refresh._artefact_cache.update(key=None, artefact=ranker.HEURISTIC, version=0)


def make_brand(
    slug: str,
    code: str = "food.bakery",
    *,
    scale: int = 100_000,
    tier: int = 3,
    tones: list[str] | None = None,
    audience: dict | None = None,
    status: str = BrandStatus.APPROVED,
    channel: str = ChannelType.WECOM,
):
    """An approved brand with one channel whose active audience is ``scale``. Like a write
    through the partners services, it marks the cached markets stale."""
    brand = BrandFactory(
        slug=slug,
        category=category(code),
        active_audience=scale,
        price_tier=tier,
        tone_tags=tones if tones is not None else ["young", "urban"],
        audience=audience if audience is not None else AUDIENCE,
        status=status,
        description="年轻都市人群喜爱的品牌",
    )
    ChannelFactory(brand=brand, type=channel, size=scale * 2, active_rate=0.5)
    market.bump_version()
    return brand
