"""The ranking gate and the learner, on small generated markets (in memory, no database).

A model may serve only when it ranks held-out brands' successful partners better than the
serving ranker beyond the noise: these tests train on markets where the truth is known.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import candidates, family, ranker, training
from matching.evaluation import ndcg_at_k


def truth_ndcg(fm: family.FamilyMarket, artefact, queries: int = 200) -> float:
    """NDCG@10 against the market's own truth, over the 100 nearest allowed partners."""
    m = fm.market
    q = np.random.default_rng(3).choice(m.n, size=queries, replace=False)
    cand, _ = candidates.exact_candidates(m, q, 100)
    valid = cand >= 0
    rows, cols = np.repeat(q, 100)[valid.ravel()], cand.ravel()[valid.ravel()]
    utility = np.zeros(cand.shape)
    utility[valid] = fm.utility(rows, cols)
    gains = np.where(valid, np.maximum(0.0, utility - np.median(utility[valid])), 0.0)
    scores = np.full(cand.shape, -np.inf)
    scores[valid] = ranker.score_pairs(m, rows, cols, artefact)[0]
    return ndcg_at_k(scores, gains, valid)


def fit(fm: family.FamilyMarket):
    return training.fit(fm.market, fm.a, fm.b, fm.y, fm.completed, members=fm.members)


@pytest.mark.parametrize("dimension", ["age", "tier"])
def test_when_one_dimension_carries_all_the_signal_the_model_learns_it_and_the_gate_activates_it(dimension):
    fm = family.dimension_market(400, dimension)
    artefact, metrics = fit(fm)
    assert metrics["gate"] == training.GATE_PASSED
    assert metrics["ndcg_diff_low"] > 0 and metrics["ndcg"] > metrics["ndcg_heuristic"]
    assert truth_ndcg(fm, artefact) > truth_ndcg(fm, ranker.HEURISTIC) + 0.03
    # what the model weighs follows the signal: the dimension's component gains weight
    group = {"age": "audience", "tier": "positioning"}[dimension]
    heuristic_share = ranker.HEURISTIC_WEIGHTS[ranker.COMPONENTS.index(group)] / ranker.HEURISTIC_WEIGHTS.sum()
    assert metrics["group_weights"][group] > heuristic_share


def test_on_pure_noise_outcomes_the_gate_refuses():
    fm = family.noise_market(400, n_outcomes=800)
    _, metrics = fit(fm)
    assert metrics["eval_queries"] >= training.MIN_QUERIES
    assert metrics["gate"] == training.GATE_NOT_BETTER
    assert metrics["ndcg_diff_low"] <= 0 <= metrics["ndcg_diff_high"] or metrics["ndcg_diff_high"] < 0


def test_held_out_brands_never_train_their_own_fold(monkeypatch):
    """Group split: a fold's model never saw an outcome of a brand it is evaluated on."""
    fm = family.dimension_market(300, "age", n_outcomes=600)
    splits = []  # (fold array, pool, [brands each fold's model was trained on])
    real_train, real_scores = training._train_model, training._fold_scores

    def train_spy(market, a, b, *args, **kwargs):
        splits[-1][2].append(set(np.concatenate([a, b]).tolist()))
        return real_train(market, a, b, *args, **kwargs)

    def scores_spy(market, a, b, y, completed, grade, conf, fold, pool, active, seed):
        splits.append((fold, pool, []))
        return real_scores(market, a, b, y, completed, grade, conf, fold, pool, active, seed)

    monkeypatch.setattr(training, "_train_model", train_spy)
    monkeypatch.setattr(training, "_fold_scores", scores_spy)
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    training.evaluate_gate(fm.market, fm.a, fm.b, fm.y, fm.completed, grade)
    assert len(splits) == training.REPEATS
    assert not np.array_equal(splits[0][0], splits[1][0])  # each repeat its own split
    for fold, pool, trained in splits:
        assert len(trained) == training.FOLDS
        for k, trained_on in enumerate(trained):
            evaluated = set(pool["q"][fold[pool["q"]] == k].tolist())
            assert evaluated and not (evaluated & trained_on)


def test_ranking_metrics_reward_successes_first_and_break_ties_at_random():
    qid = np.array([0, 0, 0, 0, 1, 1, 1])
    gains = np.array([0, 0, 2, 1, 0, 1, 0], float)
    best = np.array([0, 0, 2, 1, 0, 1, 0], float)  # the gains themselves
    worst = -best
    ndcg_best, recall_best = training.grouped_metrics(qid, best, gains, 2, k=2)
    ndcg_worst, recall_worst = training.grouped_metrics(qid, worst, gains, 2, k=2)
    assert np.allclose(ndcg_best, 1.0) and np.allclose(recall_best, 1.0)
    assert (ndcg_worst < 0.5).all() and recall_worst[0] == 0
    flat = [training.grouped_metrics(qid, np.zeros(7), gains, 2, k=1, seed=s)[0].mean() for s in range(20)]
    assert 0.2 < np.mean(flat) < 0.8  # a constant score is not "perfect" because the pool lists tried partners first


def test_paired_bootstrap_interval():
    rng = np.random.default_rng(0)
    better = rng.normal(0.05, 0.1, 400)
    mean, low, high = training.paired_bootstrap(better)
    assert low > 0 and low < mean < high
    _, low, high = training.paired_bootstrap(rng.normal(0.0, 0.1, 400))
    assert low < 0 < high


def test_a_larger_scale_gap_never_raises_the_learned_probability():
    fm = family.dimension_market(300, "age", n_outcomes=600)
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    model, _ = training._train_model(fm.market, fm.a, fm.b, fm.y, fm.completed, grade, 0)
    X = np.full((50, len(ranker.LEARNED_FEATURES)), 0.5, np.float32)
    col = ranker.LEARNED_FEATURES.index("scale_gap")
    X[:, col] = np.linspace(0, 3, 50)
    p = model.predict_proba(X)[:, 1]
    assert (np.diff(p) <= 1e-9).all()


def test_grades_weigh_yield_relative_to_reach():
    fm = family.dimension_market(200, "age", n_outcomes=400)
    a, b, y, completed = fm.a, fm.b, fm.y, fm.completed
    members = np.where(completed[:, None], 10.0, np.nan) * np.ones((len(a), 2))
    grade = training.outcome_grades(fm.market, a, b, y, completed, members)
    assert set(np.unique(grade[y == 0])) == {0.0}
    assert (grade[(y == 1) & ~completed] == 1.0).all()
    # the same number of new members is a better yield between small brands than large ones
    done = np.flatnonzero(completed)
    reach = np.minimum(fm.market.scale[a[done]], fm.market.scale[b[done]])
    small, large = done[np.argmin(reach)], done[np.argmax(reach)]
    assert grade[small] > grade[large] >= 1.0


# --- Exploration slots ---------------------------------------------------------------------------------
def test_exploration_slots_go_to_the_least_tried_plausible_partners():
    from matching.refresh import explore_slots

    partners = np.array([[10, 11, 12, 13, 14, 15, 16], [20, 21, 22, 23, 24, -1, -1]])
    scores = np.array([[0.9, 0.8, 0.7, 0.65, 0.6, 0.3, 0.58], [0.9, 0.8, 0.7, 0.3, 0.1, 0, 0]])
    comps = np.zeros(partners.shape + (4,))
    learned = np.full(partners.shape, np.nan)
    exposure = np.zeros(30, np.int64)
    exposure[[13, 14]] = [5, 9]  # 15 and 16 never tried; 15 is implausible (0.3 < 0.8 × 0.7), 16 is not
    p, s, c, lr, mask = explore_slots(partners, scores, comps, learned, 4, 4, exposure)
    assert p[0].tolist() == [10, 11, 12, 16] and mask[0].tolist() == [False, False, False, True]
    assert s[0, 3] == 0.58
    # no plausible partner beyond the ranked ones: the plain top 4
    assert p[1].tolist() == [20, 21, 22, 23] and not mask[1].any()


def test_a_dimension_nobody_filled_in_does_not_break_training():
    fm = family.dimension_market(200, "tier", n_outcomes=400)
    fm.market.region_bits[:] = 0  # no brand lists its regions
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    model, X = training._train_model(fm.market, fm.a, fm.b, fm.y, fm.completed, grade, 0)
    assert np.isnan(X[:, ranker.LEARNED_FEATURES.index("region_overlap")]).all()
    assert model.predict_proba(X).shape == (len(fm.a), 2)
