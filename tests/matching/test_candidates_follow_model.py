"""Issue 12 — candidates follow the trained model (``refresh.candidate_rows``, ``ranker.prefilter``).

Pure: a generated market in memory, no database."""

from __future__ import annotations

import numpy as np
import pytest

from matching import candidates, generator, ranker, refresh, training
from matching.features import build_market

SEED = 5
N = 3000
C = 20


@pytest.fixture(scope="module")
def trained():
    gm = generator.generate_market(N, seed=SEED)
    market = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing, seed=SEED)
    artefact, metrics = training.fit(
        market, gm.outcome_a, gm.outcome_b, gm.outcome_y, gm.outcome_completed, members=gm.outcome_members, seed=SEED
    )
    if not ranker.serves_model(artefact):  # the gate's blend is not what these tests are about
        artefact.blend_weight = 0.5
        artefact.model, _ = training._train_model(
            market,
            gm.outcome_a,
            gm.outcome_b,
            gm.outcome_y,
            gm.outcome_completed,
            training.outcome_grades(market, gm.outcome_a, gm.outcome_b, gm.outcome_y, gm.outcome_completed, None),
            SEED,
        )
    return market, artefact


def exact_top10(market, artefact, queries):
    everyone = np.arange(market.n)
    out = []
    for q in queries.tolist():
        score = ranker.score_pairs(market, np.full(market.n, q), everyone, artefact)[0]
        score[market.compete[market.cat[q], market.cat]] = -np.inf
        score[q] = -np.inf
        out.append(set(np.argpartition(-score, 10)[:10].tolist()))
    return out


def recall(best, cand):
    return float(np.mean([len(b & set(r[r >= 0].tolist())) / 10 for b, r in zip(best, cand, strict=True)]))


def test_the_heuristic_path_searches_exactly_as_before(trained):
    market, _ = trained
    rows = np.arange(0, market.n, 7)
    before, _ = candidates.exact_candidates(market, rows, C)
    got = refresh.candidate_rows(market, rows, ranker.HEURISTIC, C, ivf=False)
    assert np.array_equal(got, before)
    before_ivf, _ = candidates.ivf_candidates(market, C)
    assert np.array_equal(
        refresh.candidate_rows(market, np.arange(market.n), ranker.HEURISTIC, C, ivf=True), before_ivf
    )


def test_a_model_the_gate_gave_no_weight_does_not_change_the_search(trained):
    market, artefact = trained
    refused = ranker.Artefact.loads(artefact.dumps())
    refused.blend_weight = 0.0
    rows = np.arange(0, market.n, 5)
    assert not ranker.serves_model(refused)
    assert np.array_equal(
        refresh.candidate_rows(market, rows, refused, C, ivf=False), candidates.exact_candidates(market, rows, C)[0]
    )


def test_a_serving_model_widens_the_pool_and_keeps_the_best_by_the_served_heuristic(trained):
    market, artefact = trained
    rows = np.arange(0, market.n, 11)
    got = refresh.candidate_rows(market, rows, artefact, C, ivf=False)
    wide, _ = candidates.exact_candidates(market, rows, C * refresh.TRAINED_POOL_FACTOR)
    narrow, _ = candidates.exact_candidates(market, rows, C)
    assert got.shape == (len(rows), C)
    assert not np.array_equal(got, narrow)  # it really is a different candidate set
    for q, g, w in zip(rows.tolist(), got, wide, strict=True):
        w = w[w >= 0]
        assert set(g[g >= 0].tolist()) <= set(w.tolist())
        feats = ranker.pair_features(market, np.full(len(w), q), w, artefact)
        heur = ranker.components(feats) @ ranker.HEURISTIC_WEIGHTS
        kept = heur[[int(np.flatnonzero(w == x)[0]) for x in g]]
        assert np.all(np.diff(kept) <= 1e-6)  # in order of the served heuristic
        assert kept.min() >= np.sort(heur)[::-1][C - 1] - 1e-6  # and the best C of the pool
        # hard constraints still hold: never itself, never a competing category
        assert q not in g.tolist()
        assert not market.compete[market.cat[q], market.cat[g]].any()


def test_the_artefact_round_trips_with_the_same_candidates(trained):
    market, artefact = trained
    rows = np.arange(0, market.n, 13)
    loaded = ranker.Artefact.loads(artefact.dumps())
    assert ranker.serves_model(loaded)
    assert np.array_equal(
        refresh.candidate_rows(market, rows, loaded, C, ivf=False),
        refresh.candidate_rows(market, rows, artefact, C, ivf=False),
    )


def test_recall_under_the_trained_model_improves_over_the_plain_embedding_search(trained):
    market, artefact = trained
    queries = np.random.default_rng(SEED).choice(market.n, size=120, replace=False)
    best = exact_top10(market, artefact, queries)
    plain = recall(best, candidates.exact_candidates(market, queries, C)[0])
    served = recall(best, refresh.candidate_rows(market, queries, artefact, C, ivf=False))
    assert served >= plain + 0.08, (plain, served)
