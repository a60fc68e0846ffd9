"""The feature rows: channel columns follow ChannelType, and a brand gets the same row whether
the market is built with it or it is added to a cached market later (one shared function)."""

import numpy as np

from matching import generator
from matching.features import CHANNEL_TYPES, build_market, replace_rows
from partners.models import ChannelType

NON_TEXT = ("cat", "scale", "log_scale", "tier", "dist", "dist_known", "regions", "chan", "tone_bits", "region_bits")


def test_channel_columns_are_the_channel_types_in_order():
    assert CHANNEL_TYPES == tuple(ChannelType.values)


def test_a_brand_added_to_a_market_gets_the_row_it_would_have_had_from_the_start():
    gm = generator.generate_market(300, seed=4)
    full = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing)
    market = build_market(gm.brands[:-20], leaves=gm.leaves, competing=gm.competing)
    replace_rows(market, gm.brands[-20:])

    ids = [b.id for b in gm.brands[-20:]]
    built = [full.index[i] for i in ids]
    added = [market.index[i] for i in ids]
    assert any(full.chan[built].sum(axis=1) > 0), "the generated brands have channels"
    for name in NON_TEXT:
        assert np.array_equal(getattr(full, name)[built], getattr(market, name)[added]), name
