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


def _market_without_channels_for(n_empty: int = 30):
    gm = generator.generate_market(200, seed=5)
    market = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing)
    market.chan[:n_empty] = 0  # these brands left their channel mix empty
    return market


def test_a_missing_channel_mix_is_unknown_for_the_learner_and_left_out_of_the_audience():
    from matching import ranker

    market = _market_without_channels_for()
    rows, cols = np.arange(0, 60), np.arange(60, 120)  # the first 30 rows have no channel mix
    feats = ranker.pair_features(market, rows, cols, ranker.HEURISTIC)
    channel = feats["channel_fit"]
    assert np.isnan(channel[:30]).all() and np.isfinite(channel[30:]).all()
    # the audience component is the same as if the dimension were not there at all
    without = ranker.pair_features(market, rows[:30], cols[:30], ranker.HEURISTIC)["audience_fit"]
    market.chan[60:120] = 0
    both_empty = ranker.pair_features(market, rows[:30], cols[:30], ranker.HEURISTIC)["audience_fit"]
    assert np.allclose(without, both_empty)
    X = ranker.feature_matrix(feats, np.zeros(len(rows)), ranker.LEARNED_FEATURES)
    assert np.isnan(X[:30, ranker.LEARNED_FEATURES.index("channel_fit")]).all()


def test_the_signed_scale_gap_is_split_into_partner_larger_and_partner_smaller():
    from matching import ranker

    market = _market_without_channels_for(0)
    rows, cols = np.arange(0, 100), np.arange(100, 200)
    f = ranker.pair_features(market, rows, cols, ranker.HEURISTIC)
    signed = market.log_scale[cols] - market.log_scale[rows]
    assert np.allclose(f["partner_larger"] - f["partner_smaller"], signed, atol=1e-5)
    assert (np.minimum(f["partner_larger"], f["partner_smaller"]) == 0).all()
    assert np.allclose(f["partner_larger"] + f["partner_smaller"], f["scale_gap"], atol=1e-5)
    assert np.allclose(f["scale_gap_signed"], -signed, atol=1e-5)  # what pre-split models read


def test_artefacts_pickled_before_the_ranking_objective_still_load_and_score():
    """An artefact stored before ``objective``/``offset`` existed is a pointwise classifier on
    the features it lists (here the earlier learned set, with the free signed gap)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from matching import ranker

    market = _market_without_channels_for()
    old_features = tuple(f for f in ranker.LEARNED_FEATURES if f not in ("partner_larger", "partner_smaller")) + (
        "scale_gap_signed",
    )
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, market.n, 400), rng.integers(0, market.n, 400)
    feats = ranker.pair_features(market, rows, cols, ranker.HEURISTIC)
    X = ranker.feature_matrix(feats, np.zeros(len(rows)), old_features)
    y = (feats["scale_gap"] < np.median(feats["scale_gap"])).astype(int)
    art = ranker.Artefact(model=HistGradientBoostingClassifier(max_iter=10).fit(X, y), blend_weight=0.5)
    art.features = old_features
    del art.__dict__["objective"], art.__dict__["offset"]  # as pickled by the earlier code
    loaded = ranker.Artefact.loads(art.dumps())
    assert loaded.objective == "pointwise" and loaded.offset == 0.0
    score, _, learned = ranker.score_pairs(market, rows, cols, loaded)
    assert np.isfinite(score).all() and np.allclose(learned, art.model.predict_proba(X)[:, 1], atol=1e-6)
