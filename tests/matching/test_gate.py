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
    # refused because the interval reaches zero (noise), and the difference itself is small
    assert metrics["ndcg_diff_low"] <= 0
    assert abs(metrics["ndcg_diff"]) < 0.05


def _spy_fits(monkeypatch):
    """Record, per brand split, the brands each fitted model (candidate or refitted serving
    model) was trained on."""
    splits = []  # (fold array, pool, [(objective, brands trained on)])
    real_fit, real_scores = training._fit_recipe, training._fold_scores

    def fit_spy(market, a, b, *args, **kwargs):
        if splits:
            splits[-1][2].append((kwargs.get("objective"), set(np.concatenate([a, b]).tolist())))
        return real_fit(market, a, b, *args, **kwargs)

    def scores_spy(market, a, b, y, completed, grade, conf, fold, pool, active, seed):
        splits.append((fold, pool, []))
        return real_scores(market, a, b, y, completed, grade, conf, fold, pool, active, seed)

    monkeypatch.setattr(training, "_fit_recipe", fit_spy)
    monkeypatch.setattr(training, "_fold_scores", scores_spy)
    return splits


def _assert_group_split(splits, per_fold: int):
    assert len(splits) == training.REPEATS
    assert not np.array_equal(splits[0][0], splits[1][0])  # each repeat its own split
    for fold, pool, trained in splits:
        assert len(trained) == training.FOLDS * per_fold
        for i, (_, trained_on) in enumerate(trained):
            k = i // per_fold
            evaluated = set(pool["q"][fold[pool["q"]] == k].tolist())
            assert evaluated and not (evaluated & trained_on)


def test_held_out_brands_never_train_their_own_fold(monkeypatch):
    """Group split: a fold's model never saw an outcome of a brand it is evaluated on."""
    fm = family.dimension_market(300, "age", n_outcomes=600)
    splits = _spy_fits(monkeypatch)
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    training.evaluate_gate(fm.market, fm.a, fm.b, fm.y, fm.completed, grade)
    _assert_group_split(splits, per_fold=1)


def test_the_serving_model_is_refitted_per_fold_with_its_own_recipe(monkeypatch):
    """The serving model is not scored as trained on every outcome (it would have seen the
    held-out brands): each fold refits its recipe (here the within-brand regressor, not the
    candidate's classifier) on that fold's training brands, and the gate reports it against the
    heuristic too."""
    fm = family.dimension_market(300, "age", n_outcomes=600)
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    serving = training._stats_artefact(fm.market, fm.a, fm.b, fm.y, fm.completed)
    fitted = training._fit_recipe(fm.market, fm.a, fm.b, fm.y, fm.completed, grade, 0, objective="within_brand")
    serving.model, serving.features, serving.objective, serving.offset, serving.blend_weight = (
        fitted.model,
        fitted.features,
        "within_brand",
        fitted.offset,
        0.5,
    )
    splits = _spy_fits(monkeypatch)
    metrics = training.evaluate_gate(fm.market, fm.a, fm.b, fm.y, fm.completed, grade, active=serving)
    _assert_group_split(splits, per_fold=2)
    for _, _, trained in splits:
        assert [objective for objective, _ in trained[1::2]] == ["within_brand"] * training.FOLDS
    assert metrics["baseline"] == "model"
    assert {"ndcg_active", "ndcg_diff_heuristic_low", "active_diff_heuristic_low"} <= set(metrics)


def test_the_blend_is_chosen_on_other_folds_than_the_ones_it_is_judged_on(monkeypatch):
    """With several candidate weights, each fold's is picked on the other folds' held-out
    brands only: the means it is picked from leave the fold's own brands out."""
    fm = family.dimension_market(300, "age", n_outcomes=600)
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    monkeypatch.setattr(training, "BLENDS", (0.0, 0.25, 0.5, 0.75))
    seen = []
    real_pick = training._pick_blend
    monkeypatch.setattr(training, "_pick_blend", lambda means: seen.append(means) or real_pick(means))
    metrics = training.evaluate_gate(fm.market, fm.a, fm.b, fm.y, fm.completed, grade)
    assert len(metrics["blend_by_fold"]) == training.REPEATS
    assert all(len(picks) == training.FOLDS for picks in metrics["blend_by_fold"])
    assert len(seen) == training.REPEATS * training.FOLDS + 1  # one per held-out fold, then the final blend
    final = seen[-1]
    assert all(set(means) == {0.0, 0.25, 0.5, 0.75} for means in seen)
    assert all(means != final for means in seen[:-1])  # each fold's choice saw fewer brands than the final one
    assert metrics["blend_weight"] == real_pick(final)


def test_the_default_blend_is_fixed_so_the_gate_judges_what_serves():
    fm = family.dimension_market(400, "age")
    artefact, metrics = fit(fm)
    assert training.BLENDS == (0.5,)
    assert metrics["gate"] == training.GATE_PASSED
    assert artefact.blend_weight == 0.5 and all(w == 0.5 for picks in metrics["blend_by_fold"] for w in picks)


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


def _served(fm, model, objective: str) -> ranker.Artefact:
    art = training._stats_artefact(fm.market, fm.a, fm.b, fm.y, fm.completed)
    art.model, art.features, art.objective, art.offset = model, ranker.LEARNED_FEATURES, objective, float(fm.y.mean())
    return art


@pytest.mark.parametrize("objective", ["pointwise", "within_brand"])
def test_a_larger_scale_or_tier_gap_never_raises_the_learned_score(objective):
    fm = family.dimension_market(300, "age", n_outcomes=600)
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    fitted = training._fit_recipe(fm.market, fm.a, fm.b, fm.y, fm.completed, grade, 0, objective=objective)
    served = _served(fm, fitted.model, objective)
    for feature in ("scale_gap", "partner_larger", "partner_smaller", "tier_gap"):
        X = np.full((50, len(ranker.LEARNED_FEATURES)), 0.5, np.float32)
        X[:, ranker.LEARNED_FEATURES.index(feature)] = np.linspace(0, 3, 50)
        assert (np.diff(ranker.learned_probability(served, X)) <= 1e-6).all(), feature
    # and a higher heuristic never lowers it
    X = np.full((50, len(ranker.LEARNED_FEATURES)), 0.5, np.float32)
    X[:, ranker.LEARNED_FEATURES.index("heuristic")] = np.linspace(0, 1, 50)
    assert (np.diff(ranker.learned_probability(served, X)) >= -1e-6).all()


def test_the_within_brand_objective_compares_partners_of_one_brand():
    """A brand that succeeds with everyone has targets centred on zero: it teaches whom to
    rank first, not that the brand is popular."""
    q = np.array([0] * 40 + [1] * 40 + [2, 3])
    y = np.array([1] * 30 + [0] * 10 + [1] * 10 + [0] * 30 + [1, 0])
    t = training._within_brand_targets(q, y, float(y.mean()))
    assert abs(t[q == 0].mean()) < 0.05 and abs(t[q == 1].mean()) < 0.05
    assert t[40:50].min() > t[:30].max()  # a success of a rarely successful brand says more
    assert t[80] > 0 > t[81]


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
    assert grade[small] > grade[large] > training.GRADE_COMPLETED


def test_grades_are_monotone_completed_with_yield_over_completed_over_accepted_over_failure():
    fm = family.dimension_market(200, "age", n_outcomes=0)
    n = 12
    a, b = np.arange(n), np.arange(n) + 20
    y = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    completed = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1], bool)
    gained = [np.nan, np.nan, np.nan, np.nan, 0, 1, 2, 5, 10, 20, 50, 1e6]
    members = np.column_stack([gained, gained])
    grade = training.outcome_grades(fm.market, a, b, y, completed, members)
    failure, accepted, unreported, nothing = grade[0], grade[2], grade[3], grade[4]
    assert failure == 0 < accepted == 1 < unreported == nothing == training.GRADE_COMPLETED
    with_yield = grade[5:]
    reach = np.minimum(fm.market.scale[a[5:]], fm.market.scale[b[5:]])
    by_yield = np.argsort(np.asarray(gained[5:]) / reach)
    assert (with_yield > training.GRADE_COMPLETED).all() and (with_yield <= 2.0).all()
    assert (np.diff(with_yield[by_yield]) >= 0).all()
    # without enough reports to know the typical yield, a positive one is still above a bare completion
    few = training.outcome_grades(fm.market, a[:7], b[:7], y[:7], completed[:7], members[:7])
    assert (few[5:] > training.GRADE_COMPLETED).all()


def test_an_accepted_then_completed_swap_counts_once_at_its_best_grade():
    # 1×2 accepted then completed (recorded b×a); 1×3 declined twice; 4×5 declined then accepted;
    # 6×7 accepted, completed, accepted again (a second swap, not completed yet); 8×9 completed twice
    a = np.array([1, 2, 1, 1, 4, 4, 6, 6, 7, 8, 8])
    b = np.array([2, 1, 3, 3, 5, 5, 7, 7, 6, 9, 9])
    y = np.array([1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    completed = np.array([0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1], bool)
    keep = training.dedupe_swaps(a, b, y, completed)
    assert keep.tolist() == [1, 2, 3, 4, 5, 7, 8, 9, 10]  # the accepts of 1×2 and of 6×7's first swap fold in
    fm = family.dimension_market(200, "age", n_outcomes=0)
    grade = training.outcome_grades(fm.market, a, b, y, completed, None)
    assert grade[1] == training.GRADE_COMPLETED > grade[0]  # the kept row is the best grade
    # through fit: the exchange's accept rows of completed swaps are not counted twice
    fm2 = family.dimension_market(300, "age", n_outcomes=600)
    done = np.flatnonzero(fm2.completed)[:40]
    aa, bb = np.concatenate([fm2.a, fm2.a[done]]), np.concatenate([fm2.b, fm2.b[done]])
    yy = np.concatenate([fm2.y, np.ones(len(done), np.int64)])
    cc = np.concatenate([fm2.completed, np.zeros(len(done), bool)])
    _, metrics = training.fit(fm2.market, aa, bb, yy, cc)
    assert metrics["absorbed_accepts"] >= len(done)  # the history may hold an a×b accept of a b×a completion
    assert metrics["outcomes"] == len(aa) - metrics["absorbed_accepts"]


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
    p = ranker.learned_probability(_served(fm, model, training.OBJECTIVE), X)
    assert p.shape == (len(X),) and np.isfinite(p).all() and (0 <= p).all() and (p <= 1).all()


def test_the_gate_reports_explored_outcomes_apart_and_refuses_a_model_that_ranks_them_worse(monkeypatch):
    fm = family.dimension_market(400, "age")
    assert set(np.unique(fm.slot)) <= {"", "ranked", "explore"} and (fm.slot == "explore").any()
    _, metrics = training.fit(fm.market, fm.a, fm.b, fm.y, fm.completed, members=fm.members, slot=fm.slot)
    ex = metrics["explore"]
    assert 0 < ex["outcomes"] <= int((fm.slot == "explore").sum())
    assert ex["queries"] >= training.MIN_QUERIES and ex["ndcg_diff_heuristic_low"] is not None
    assert metrics["gate"] == training.GATE_PASSED  # age carries the signal: explored lists agree
    # a candidate that ranks the explored lists upside down is refused for it
    real = training._compare

    def upside_down(sub, runs_scores, names, seed):
        out = real(sub, runs_scores, names, seed)
        if sub["n"] < metrics["eval_queries"]:  # the explored sub-pool
            out["candidate"] = (out["heuristic"][0] - 0.2, out["heuristic"][1])
        return out

    monkeypatch.setattr(training, "_compare", upside_down)
    _, refused = training.fit(fm.market, fm.a, fm.b, fm.y, fm.completed, members=fm.members, slot=fm.slot)
    assert refused["gate"] == training.GATE_NOT_BETTER
    assert refused["refused"] == training.REFUSED_BELOW_HEURISTIC_EXPLORED


def test_a_serving_model_from_before_issue_12_is_refitted_with_its_own_features():
    """A legacy artefact (GradientBoostingClassifier on the 10 aggregate features) serving: the
    gate clones and refits it per fold on those features, NaN read as 0.5 as it was trained."""
    from sklearn.ensemble import GradientBoostingClassifier

    fm = family.dimension_market(300, "age", n_outcomes=600)
    grade = training.outcome_grades(fm.market, fm.a, fm.b, fm.y, fm.completed, fm.members)
    legacy = training._stats_artefact(fm.market, fm.a, fm.b, fm.y, fm.completed)
    X = training._features(fm.market, fm.a, fm.b, legacy, ranker.PAIR_FEATURES)
    legacy.model = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, fm.y)
    legacy.blend_weight = 0.5
    del legacy.__dict__["features"], legacy.__dict__["objective"], legacy.__dict__["offset"]
    legacy = ranker.Artefact.loads(legacy.dumps())
    assert legacy.features == ranker.PAIR_FEATURES and legacy.objective == "pointwise"
    metrics = training.evaluate_gate(fm.market, fm.a, fm.b, fm.y, fm.completed, grade, active=legacy)
    assert metrics["baseline"] == "model" and 0 < metrics["ndcg_active"] <= 1
    assert metrics["active_diff_heuristic_low"] <= metrics["active_diff_heuristic_high"]
