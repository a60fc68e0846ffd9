"""Training the learned ranker from outcomes, and the gate that decides whether it may serve
(pure: arrays in, Artefact + metrics out).

**Labels.** Accepted or completed = success, declined / expired / dismissed = failure. Each
outcome also has a *grade* (its gain): accepted 1, completed 1.5, a completed swap with a
new-member yield above the market's typical yield up to 2 (``outcome_grades``). Grades weigh
the successes in training and are the gains of the ranking metric.

**Model.** ``HistGradientBoostingClassifier`` on the per-dimension pair features
(``ranker.LEARNED_FEATURES``: each audience dimension, regions, channel mix, tier gap, tag
overlap, text similarity, signed and absolute scale gap, the category pair's smoothed rate
and its confidence, the heuristic), missing dimensions as NaN, monotonic where the domain is
certain (``ranker.MONOTONIC``). Ranking-aware weights: every query brand's outcomes together
weigh as much as one brand's (a popular brand tried fifty times does not outvote fifty brands
tried once — histories are biased towards popular brands), and successes weigh by grade.
Category-pair statistics are target-derived, so training rows see them out of fold.

**Gate (what users see).** Brands are split into ``FOLDS`` groups; for each group a model is
trained on the outcomes of the *other* brands only (never the same brand in train and test)
and scored on the held-out brands' lists: every held-out brand with both a success and a
failure ranks the partners it tried (gains = grades; see ``_pools`` for why untried partners
are left out). NDCG@10 and recall@10 per brand, for the candidate at
each blend weight, for the heuristic and for the serving model. The candidate is the best
blend; it may serve only if the paired bootstrap 95 % interval of its NDCG@10 minus the
serving ranker's (the active model, else the heuristic) lies above zero.
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from matching.features import Market
from matching.models import TrainingMessage
from matching.ranker import (
    COMPONENTS,
    FEATURE_GROUPS,
    HEURISTIC,
    HEURISTIC_WEIGHTS,
    LEARNED_FEATURES,
    MONOTONIC,
    Artefact,
    category_counts,
    components,
    feature_matrix,
    pair_features,
    score_pairs,
)

FOLDS = 4
REPEATS = 2  # brand splits averaged: less noise from which brands happened to be held out
# Shares of the learned probability the gate tries. Never 1: trained on the pairs the market
# chose to try, the probability alone extrapolates badly to the untried pairs a refresh ranks
# (on the family, w = 1 sometimes ranked below the heuristic where 0.25–0.75 ranked above);
# the heuristic's share keeps the interpretable structure where the history has no data.
BLENDS = (0.0, 0.25, 0.5, 0.75)
BLEND_TOLERANCE = 0.002  # a larger share must beat a smaller one by this much to be chosen
TOP = 10
BOOTSTRAP = 1000
MIN_QUERIES = 5  # fewer held-out brands with a success and a failure: the gate cannot tell
MAX_QUERIES = 4000  # held-out brands evaluated at most (a sample beyond that)

GATE_PASSED = "passed"
GATE_NOT_BETTER = "not_better"
GATE_TOO_FEW = "too_few_queries"


# --- Labels -------------------------------------------------------------------------------------
def outcome_grades(
    market: Market, a: np.ndarray, b: np.ndarray, y: np.ndarray, completed: np.ndarray, members: np.ndarray | None
) -> np.ndarray:
    """Graded gains: 0 failure, 1 accepted, 1.5 completed, completed with reported new members
    1–2 by yield (new members over the smaller side's active audience) relative to the median
    yield of the completed swaps that reported it."""
    grade = np.where(y == 1, np.where(completed, 1.5, 1.0), 0.0)
    if members is None or not len(a):
        return grade
    members = np.asarray(members, np.float64).reshape(len(a), 2)
    reported = completed & np.isfinite(members).all(axis=1) & (members.sum(axis=1) > 0)
    if reported.sum() < 5:
        return grade
    reach = np.maximum(np.minimum(market.scale[a], market.scale[b]), 1.0)
    yld = np.where(reported, np.nan_to_num(members).sum(axis=1) / (2 * reach), 0.0)
    ratio = yld / max(float(np.median(yld[reported])), 1e-9)
    grade = np.where(reported, 1.0 + 0.5 * np.clip(ratio, 0.0, 2.0), grade)
    return grade


# --- Metrics ------------------------------------------------------------------------------------
def grouped_metrics(
    qid: np.ndarray, scores: np.ndarray, gains: np.ndarray, n_q: int, k: int = TOP, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(NDCG@k, recall@k) per query for pooled rows (``qid`` 0…n_q−1). Ties are broken at
    random (the pools list tried partners first; a constant score must not look good)."""
    tie = np.random.default_rng(seed).random(len(qid))
    order = np.lexsort((tie, -scores, qid))
    q_sorted, g_sorted = qid[order], gains[order]
    starts = np.searchsorted(q_sorted, np.arange(n_q))
    pos = np.arange(len(order)) - starts[q_sorted]
    disc = np.where(pos < k, 1.0 / np.log2(pos + 2.0), 0.0)
    dcg = np.bincount(q_sorted, weights=g_sorted * disc, minlength=n_q)
    hits = np.bincount(q_sorted, weights=(g_sorted > 0) * (pos < k), minlength=n_q)
    ideal_order = np.lexsort((-gains, qid))
    gi = gains[ideal_order]
    ideal = np.bincount(q_sorted, weights=gi * disc, minlength=n_q)  # same positions per query
    positives = np.bincount(qid, weights=(gains > 0).astype(float), minlength=n_q)
    ndcg = np.where(ideal > 0, dcg / np.maximum(ideal, 1e-12), 0.0)
    recall = np.where(positives > 0, hits / np.maximum(positives, 1), 0.0)
    return ndcg, recall


def paired_bootstrap(diff: np.ndarray, *, seed: int = 0, rounds: int = BOOTSTRAP) -> tuple[float, float, float]:
    """(mean, 2.5 %, 97.5 %) of the mean of per-query differences, resampling queries."""
    diff = np.asarray(diff, np.float64)
    if len(diff) == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = np.empty(rounds)
    for start in range(0, rounds, 100):  # 100 resamples at a time: bounded memory
        idx = rng.integers(0, len(diff), (min(100, rounds - start), len(diff)))
        means[start : start + len(idx)] = diff[idx].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)


def _auc(y, s) -> float | None:
    y = np.asarray(y)
    return float(roc_auc_score(y, s)) if len(np.unique(y)) > 1 else None


# --- Pieces -------------------------------------------------------------------------------------
def _stats_artefact(market: Market, a, b, y, completed) -> Artefact:
    L = len(market.leaf_ids)
    succ, cnt, comp = category_counts(market.cat[a], market.cat[b], y, completed, L)
    prior = float(y.mean()) if len(y) else 0.5
    return Artefact(leaf_ids=market.leaf_ids.copy(), cat_success=succ, cat_count=cnt, cat_completed=comp, prior=prior)


def _features(market: Market, a, b, art: Artefact) -> np.ndarray:
    feats = pair_features(market, a, b, art)
    return feature_matrix(feats, components(feats) @ HEURISTIC_WEIGHTS, LEARNED_FEATURES)


def _oof_features(market: Market, a, b, y, completed, seed: int) -> np.ndarray:
    """Training rows' features with category statistics from the other folds (no leakage)."""
    X = np.zeros((len(a), len(LEARNED_FEATURES)), np.float32)
    n_splits = min(5, int(np.bincount(y.astype(int)).min())) if len(np.unique(y)) > 1 else 0
    if n_splits < 2:
        return _features(market, a, b, _stats_artefact(market, a, b, y, completed))
    for fit_idx, out_idx in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(a, y):
        art = _stats_artefact(market, a[fit_idx], b[fit_idx], y[fit_idx], completed[fit_idx])
        X[out_idx] = _features(market, a[out_idx], b[out_idx], art)
    return X


def _weights(a: np.ndarray, grade: np.ndarray, confidence: np.ndarray | None = None) -> np.ndarray:
    """Each proposing brand's outcomes weigh together like √(its count) outcomes (popular
    brands do not dominate); successes by grade, failures by confidence. Normalised to mean 1."""
    counts = np.bincount(a)[a].astype(np.float64)
    w = np.where(grade > 0, grade, 1.0) / np.sqrt(counts)
    if confidence is not None:
        w = w * confidence
    return w / w.mean()


def _classifier(n: int, seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.08,
        max_leaf_nodes=8,
        min_samples_leaf=int(np.clip(n // 60, 5, 40)),
        l2_regularization=1.0,
        monotonic_cst=[MONOTONIC.get(name, 0) for name in LEARNED_FEATURES],
        early_stopping=False,
        random_state=seed,
    )


def snap_to_quantiles(X: np.ndarray, bins: int = 64) -> np.ndarray:
    """Each column's values moved to the nearest of ``bins`` quantiles (NaN kept).

    With sample weights HistGradientBoosting bins a column by weighted percentiles, one
    Python call each (seconds per fit); a column with no more distinct values than
    ``max_bins`` is binned at the midpoints instead. Snapping to the *nearest* quantile keeps
    those midpoints exactly where raw values at serving time fall into the same bins."""
    out = X.copy()
    for c in range(X.shape[1]):
        col = X[:, c]
        ok = np.isfinite(col)
        if not ok.any():  # nobody filled the dimension in: a constant (the learner fails on all-NaN)
            out[:, c] = 0.0
            continue
        if ok.sum() < 2:
            continue
        edges = np.unique(np.quantile(col[ok], np.linspace(0, 1, bins)))
        if len(edges) < 2:
            continue
        mids = (edges[1:] + edges[:-1]) / 2
        out[ok, c] = edges[np.searchsorted(mids, col[ok], side="right")]
    return out


def _train_model(market: Market, a, b, y, completed, grade, seed: int, confidence: np.ndarray | None = None):
    X = _oof_features(market, a, b, y, completed, seed)
    clf = _classifier(len(a), seed)
    with threadpool_limits(limits=1, user_api="openmp"):  # small fits: threads only spin
        clf.fit(snap_to_quantiles(X), y, sample_weight=_weights(a, grade, confidence))
    return clf, X


def _with_tables(artefact: Artefact, stats: Artefact) -> Artefact:
    """``artefact`` with the category statistics of ``stats`` (the fold's training outcomes)."""
    out = copy.copy(artefact)
    out.__dict__.pop("_tables", None)
    out.leaf_ids, out.cat_success, out.cat_count, out.cat_completed, out.prior = (
        stats.leaf_ids,
        stats.cat_success,
        stats.cat_count,
        stats.cat_completed,
        stats.prior,
    )
    return out


def group_weights(model, X: np.ndarray, y: np.ndarray, blend: float, seed: int) -> tuple[float, ...]:
    """Share of the served score's weight per component: the heuristic's weights for its part,
    the model's permutation importance (grouped by component; the heuristic input spread by
    the heuristic's weights) for the learned part."""
    base = HEURISTIC_WEIGHTS.astype(np.float64) / HEURISTIC_WEIGHTS.sum()
    if model is None or blend <= 0:
        return tuple(float(v) for v in base)
    n = len(y)
    take = np.random.default_rng(seed).choice(n, size=min(n, 4000), replace=False)
    with threadpool_limits(limits=1, user_api="openmp"):
        imp = permutation_importance(
            model, X[take], y[take], n_repeats=3, random_state=seed, scoring="neg_log_loss"
        ).importances_mean
    imp = np.maximum(imp, 0.0)
    learned = np.zeros(len(COMPONENTS))
    for name, v in zip(LEARNED_FEATURES, imp, strict=True):
        if name == "heuristic":
            learned += v * base
        else:
            learned[COMPONENTS.index(FEATURE_GROUPS[name])] += v
    learned = learned / learned.sum() if learned.sum() > 0 else base
    mix = (1 - blend) * base + blend * learned
    return tuple(round(float(v), 4) for v in mix / mix.sum())


# --- The held-out pools -------------------------------------------------------------------------
def _pools(market: Market, a, b, grade, fold, rng) -> dict[str, np.ndarray]:
    """Rows (query, partner, gain, query index) of every held-out list: each brand with a
    success and a failure among the partners it tried, in either role, ranks those partners
    (best grade per partner). Only tried pairs: their labels are known. Adding untried
    partners as failures would reward a model for recognising *which* pairs were tried (a
    history chosen by scale or an earlier recommender) instead of which ones work."""
    rows = np.concatenate([a, b])
    partners = np.concatenate([b, a])
    gains = np.concatenate([grade, grade])
    codes = rows * market.n + partners
    order = np.lexsort((-gains, codes))
    first = np.ones(len(order), bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    keep = np.sort(order[first])
    rows, partners, gains = rows[keep], partners[keep], gains[keep]
    pos = np.bincount(rows, weights=(gains > 0).astype(float), minlength=market.n)
    neg = np.bincount(rows, weights=(gains <= 0).astype(float), minlength=market.n)
    queries = np.flatnonzero((pos > 0) & (neg > 0))
    if len(queries) > MAX_QUERIES:
        queries = np.sort(rng.choice(queries, MAX_QUERIES, replace=False))
    qpos = np.full(market.n, -1, np.int64)
    qpos[queries] = np.arange(len(queries))
    sel = qpos[rows] >= 0
    q, p, g = rows[sel], partners[sel], gains[sel]
    return {
        "q": q,
        "p": p,
        "gain": g,
        "qid": qpos[q],
        "fold": fold[q],
        "n": len(queries),
        "tried": np.ones(len(q), bool),
    }


def _fold_scores(market: Market, a, b, y, completed, grade, conf, fold, pool, active, seed):
    """One brand split: every pool row scored by the model of the fold it is held out in (per
    blend), by the heuristic, and by the serving model (with the fold's category statistics)."""
    pool_fold = fold[pool["q"]]
    scores = {w: np.zeros(len(pool["q"])) for w in BLENDS}
    heuristic = np.zeros(len(pool["q"]))
    active_scores = np.zeros(len(pool["q"])) if active is not None else None
    for k in range(FOLDS):
        tr = (fold[a] != k) & (fold[b] != k)
        at = pool_fold == k
        if not at.any():
            continue
        q, p = pool["q"][at], pool["p"][at]
        heuristic[at] = score_pairs(market, q, p, HEURISTIC)[0]
        if tr.sum() < 2 or len(np.unique(y[tr])) < 2:  # nothing to learn from: the heuristic
            for w in BLENDS:
                scores[w][at] = heuristic[at]
            if active is not None:
                active_scores[at] = score_pairs(market, q, p, active)[0]
            continue
        stats = _stats_artefact(market, a[tr], b[tr], y[tr], completed[tr])
        clf, _ = _train_model(market, a[tr], b[tr], y[tr], completed[tr], grade[tr], seed, conf[tr])
        feats = pair_features(market, q, p, stats)
        heur_k = components(feats) @ HEURISTIC_WEIGHTS
        with threadpool_limits(limits=1, user_api="openmp"):
            learned = clf.predict_proba(feature_matrix(feats, heur_k, LEARNED_FEATURES))[:, 1]
        for w in BLENDS:
            scores[w][at] = (1 - w) * heur_k + w * learned
        if active is not None:
            active_scores[at] = score_pairs(market, q, p, _with_tables(active, stats))[0]
    return scores, heuristic, active_scores


def evaluate_gate(
    market: Market,
    a: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    completed: np.ndarray,
    grade: np.ndarray,
    *,
    seed: int = 0,
    active: Artefact | None = None,
    confidence: np.ndarray | None = None,
) -> dict:
    """The gate's numbers (see the module docstring): per-blend NDCG@10, the heuristic's and
    the serving model's, the chosen blend and the paired bootstrap interval against serving."""
    rng = np.random.default_rng(seed)
    brands = np.unique(np.concatenate([a, b]))
    folds = []
    for _ in range(REPEATS):  # each repeat its own brand split; per-brand metrics are averaged
        fold = np.full(market.n, -1, np.int64)
        fold[brands] = rng.permutation(len(brands)) % FOLDS
        folds.append(fold)
    conf = np.ones(len(a)) if confidence is None else confidence
    sure = conf >= 0.5  # a decline for timing says too little to score a ranking by
    pool = _pools(market, a[sure], b[sure], grade[sure], folds[0], rng)
    n_q = pool["n"]
    runs = [_fold_scores(market, a, b, y, completed, grade, conf, fold, pool, active, seed) for fold in folds]

    def per_query(pick):
        """(NDCG@10, recall@10) per held-out brand, averaged over the repeats."""
        got = [grouped_metrics(pool["qid"], pick(r), pool["gain"], n_q, seed=seed) for r in runs]
        return np.mean([g[0] for g in got], axis=0), np.mean([g[1] for g in got], axis=0)

    heur_ndcg, heur_recall = per_query(lambda r: r[1])
    by_blend = {w: per_query(lambda r, w=w: r[0][w]) for w in BLENDS}
    best = 0.0
    if n_q:
        top = max(float(by_blend[w][0].mean()) for w in BLENDS)
        best = min(w for w in BLENDS if float(by_blend[w][0].mean()) >= top - BLEND_TOLERANCE)
    cand_ndcg, cand_recall = by_blend[best]
    if active is not None:
        base_ndcg, base_recall = per_query(lambda r: r[2])
        baseline = "model"
    else:
        base_ndcg, base_recall = heur_ndcg, heur_recall
        baseline = "heuristic"
    diff, low, high = paired_bootstrap(cand_ndcg - base_ndcg, seed=seed)
    if n_q < MIN_QUERIES:
        gate = GATE_TOO_FEW
    elif low > 0:
        gate = GATE_PASSED
    else:
        gate = GATE_NOT_BETTER
    tried_rows = pool["tried"]
    labels = (pool["gain"] > 0).astype(int)
    metrics = {
        "eval_queries": int(n_q),
        "folds": FOLDS,
        "repeats": REPEATS,
        "baseline": baseline,
        "ndcg": float(cand_ndcg.mean()) if n_q else None,
        "recall": float(cand_recall.mean()) if n_q else None,
        "ndcg_heuristic": float(heur_ndcg.mean()) if n_q else None,
        "recall_heuristic": float(heur_recall.mean()) if n_q else None,
        "ndcg_baseline": float(base_ndcg.mean()) if n_q else None,
        "recall_baseline": float(base_recall.mean()) if n_q else None,
        "ndcg_diff": diff,
        "ndcg_diff_low": low,
        "ndcg_diff_high": high,
        "ndcg_by_blend": {str(w): round(float(v[0].mean()), 4) for w, v in by_blend.items()} if n_q else {},
        "blend_weight": float(best),
        "gate": gate,
        "auc": _auc(labels[tried_rows], runs[0][0][best][tried_rows]) if tried_rows.any() else None,
        "auc_heuristic": _auc(labels[tried_rows], runs[0][1][tried_rows]) if tried_rows.any() else None,
    }
    if active is not None:
        metrics["ndcg_active"] = metrics["ndcg_baseline"]
    return metrics


# --- Fit ----------------------------------------------------------------------------------------
def fit(
    market: Market,
    a: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    completed: np.ndarray,
    *,
    members: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    seed: int = 0,
    active: Artefact | None = None,
    progress=lambda fraction, step: None,
) -> tuple[Artefact, dict]:
    """Train on outcome pairs (market rows ``a`` × ``b``): the gate's evaluation on held-out
    brands, then the model refitted on every outcome with the blend the gate chose. Returns
    the artefact and metrics (``metrics["gate"]`` says whether it may serve). ``confidence``
    (per outcome, default 1) scales its training weight; outcomes below ½ (a decline for
    timing) are left out of the gate's held-out lists.

    ``progress(fraction, step)`` is called with a ``TrainingMessage`` at each step."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    y, completed = np.asarray(y, np.int64), np.asarray(completed, bool)
    grade = outcome_grades(market, a, b, y, completed, members)
    conf = np.ones(len(a)) if confidence is None else np.asarray(confidence, np.float64)
    progress(0.2, TrainingMessage.TRAINING)
    progress(0.5, TrainingMessage.EVALUATING)
    metrics = evaluate_gate(market, a, b, y, completed, grade, seed=seed, active=active, confidence=conf)
    metrics.update(outcomes=len(a), positives=int(y.sum()))
    progress(0.7, TrainingMessage.REFITTING)
    final = _stats_artefact(market, a, b, y, completed)
    final.features = LEARNED_FEATURES
    blend = metrics["blend_weight"]
    if blend > 0 and len(np.unique(y)) > 1:
        final.model, X = _train_model(market, a, b, y, completed, grade, seed, conf)
        final.blend_weight = blend
        final.group_weights = group_weights(final.model, X, y, blend, seed)
    else:
        final.group_weights = group_weights(None, None, y, 0.0, seed)
    metrics["group_weights"] = dict(zip(COMPONENTS, final.group_weights, strict=True))
    progress(0.9, TrainingMessage.TRAINED)
    return final, metrics
