"""Training the learned ranker from outcomes, and the gate that decides whether it may serve
(pure: arrays in, Artefact + metrics out; ``matching.services`` reads the database's outcomes
into those arrays).

**Labels and grades.** Accepted or completed = success, declined / expired / dismissed =
failure (a bare proposal is not a label). Each outcome also has a *grade* (its gain in the
ranking metric and its weight in training), strictly monotone in how far the swap got and
what it yielded (``outcome_grades``):

    failure 0  <  accepted 1  <  completed 1.5 (no new member reported, or none gained)
               <  completed with a yield y > 0: 1.5 + ¼ · clip(y / typical yield, 0, 2) ∈ (1.5, 2]

(yield = new members over the smaller side's active audience; the typical yield is the median
of the positive reported yields, or 1.75 for every positive yield while fewer than
``MIN_REPORTED_YIELDS`` were reported).

**One swap, one row.** The exchange records a swap's accept and, later, its completion as two
outcomes of the same pair; the swap counts once, at its best grade (``dedupe_swaps``: each
completion of an unordered pair absorbs one accept of it; failures and repeated swaps stay).

**Objective.** ``HistGradientBoostingClassifier`` (``OBJECTIVE = "pointwise"``) on the
per-dimension pair features (``ranker.LEARNED_FEATURES``), missing dimensions as NaN, monotonic
where the domain is certain (``ranker.MONOTONIC``: the scale gap and each side of the signed
gap, the tier gap, the category record, the heuristic). Ranking-aware row weights: each query
brand's rows weigh together like √(its count) rows (a popular brand tried fifty times does not
outvote fifty brands tried once — histories are biased towards popular brands), successes by
grade, failures by the label's confidence. Category-pair statistics are target-derived, so
training rows see them out of fold.

A within-brand objective is implemented too (``objective="within_brand"``): every outcome is a
row of both brands' lists, the target is the label minus the query brand's own success rate
shrunk to the prior by how many outcomes the brand has (empirical Bayes;
``_within_brand_targets``), fitted by least squares — the pairwise least-squares objective
Σ over each brand's pairs of partners of ((s_i − s_j) − (y_i − y_j))², plus a ridge on each
list's mean score, which no ranking depends on — with ``HistGradientBoostingRegressor`` under
the same constraints. It is not the default: on the family of markets (docs/MATCHING.md) it
gained more on average on one seed but, on another, ranked a market's truth below the heuristic
beyond the noise with the gate's approval (−0.018 NDCG@10, a loss the gate's tried-pair lists
cannot see), where the classifier stayed within the noise. An artefact records its
``objective`` so it is read the right way (``ranker.learned_probability``) and refitted with
its own recipe.

**Gate (what users see).** Brands are split into ``FOLDS`` groups (``REPEATS`` different
splits, per-brand metrics averaged); for each group a model is trained on the outcomes of the
*other* brands only (never the same brand in train and test) and scored on the held-out
brands' lists: every held-out brand with both a success and a failure ranks the partners it
tried (gains = grades; see ``_pools`` for why untried partners are left out). NDCG@10 and
recall@10 per brand for the candidate, for the heuristic and for the serving model — refitted
on each fold's training outcomes with its own recipe and blend (``_refit_like``: scoring the
serving model as trained on every outcome would let it see the held-out brands). The blend
weight is fixed in advance (``BLENDS`` holds one): the gate judges exactly what will serve.
With several, each fold's is chosen on the *other* folds' held-out brands (cross-fitting), so
the interval below is never computed on the queries that chose it. The candidate may serve only if
the paired bootstrap 95 % interval of its NDCG@10 minus the serving ranker's lies above zero,
it is not below the heuristic beyond the noise (when a model serves, both comparisons are
reported), and it is not below the heuristic beyond the noise on the explored outcomes alone.

**Exploration slots.** An outcome recorded from an explore slot (``SlotType.EXPLORE``) is a
pair the serving ranker did not choose; ranked outcomes are pairs it did, so an evaluation on
them favours whatever resembles the serving ranker. The gate reports its numbers on the
explored outcomes separately (``metrics["explore"]``) and refuses a candidate that ranks them
worse than the heuristic beyond the noise (when at least ``MIN_QUERIES`` held-out brands have
an explored success and failure).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from matching.features import Market
from matching.models import SlotType, TrainingMessage
from matching.ranker import (
    COMPONENTS,
    FEATURE_GROUPS,
    HEURISTIC,
    HEURISTIC_WEIGHTS,
    LEARNED_FEATURES,
    MONOTONIC,
    PAIR_FEATURES,
    Artefact,
    category_counts,
    components,
    feature_matrix,
    learned_probability,
    pair_features,
    score_pairs,
)

FOLDS = 4
REPEATS = 2  # brand splits averaged: less noise from which brands happened to be held out
# Shares of the learned score the gate may choose among (cross-fitted, see ``evaluate_gate``).
# One, fixed in advance: the gate then judges exactly the recipe that will serve. Choosing
# among {0, ¼, ½, ¾} on the held-out lists was optimistic (the max of four noisy numbers);
# cross-fitted it was honest but noisy — on the family at 1,500 brands it found 3 clear gains
# instead of 7 and, on another seed, served weights (0, ¾) that ranked the truth below the
# heuristic where ½ did not (docs/MATCHING.md). Never 1: trained on the pairs the market chose
# to try, the model alone extrapolates badly to the untried pairs a refresh ranks; the
# heuristic's share keeps the interpretable structure where the history has no data.
BLENDS = (0.5,)
BLEND_TOLERANCE = 0.002  # a larger share must beat a smaller one by this much to be chosen
TOP = 10
BOOTSTRAP = 1000
MIN_QUERIES = 5  # fewer held-out brands with a success and a failure: the gate cannot tell
MAX_QUERIES = 4000  # held-out brands evaluated at most (a sample beyond that)
OBJECTIVE = "pointwise"  # new models; "within_brand" is implemented, not the default (see the docstring)

GATE_PASSED = "passed"
GATE_NOT_BETTER = "not_better"
GATE_TOO_FEW = "too_few_queries"
# Why a gate refused (``metrics["refused"]``), beyond "too few held-out brands".
REFUSED_NOT_BETTER = "not_better_than_serving"
REFUSED_BELOW_HEURISTIC = "below_heuristic"
REFUSED_BELOW_HEURISTIC_EXPLORED = "below_heuristic_on_explored"

# Grades (see the module docstring).
GRADE_ACCEPTED = 1.0
GRADE_COMPLETED = 1.5  # a completion, whatever it yielded: always above an accept
GRADE_YIELD_SPAN = 0.5  # a positive yield adds up to this much (at twice the typical yield)
MIN_REPORTED_YIELDS = 5  # fewer positive reports: no typical yield to compare with


# --- Labels -------------------------------------------------------------------------------------
def outcome_grades(
    market: Market, a: np.ndarray, b: np.ndarray, y: np.ndarray, completed: np.ndarray, members: np.ndarray | None
) -> np.ndarray:
    """Graded gains, strictly monotone in how far the swap got (the module docstring has the
    scale): 0 for a failure; 1 for an accepted swap; 1.5 for a completed swap that reported no
    new member (or nothing: NaN = not reported); ``1.5 + ¼ · clip(yield / typical, 0, 2)`` for
    a completed swap with a positive yield — yield = new members on both sides ÷ (2 × the
    smaller side's active audience), typical = the median positive reported yield. With fewer
    than ``MIN_REPORTED_YIELDS`` positive reports every positive yield grades 1.75 (typical)."""
    grade = np.where(y == 1, np.where(completed, GRADE_COMPLETED, GRADE_ACCEPTED), 0.0)
    if members is None or not len(a):
        return grade
    members = np.asarray(members, np.float64).reshape(len(a), 2)
    reported = (y == 1) & completed & np.isfinite(members).any(axis=1)
    reach = np.maximum(np.minimum(market.scale[a], market.scale[b]), 1.0)
    yld = np.where(reported, np.nansum(members, axis=1) / (2 * reach), 0.0)
    positive = reported & (yld > 0)
    if positive.sum() < MIN_REPORTED_YIELDS:
        return np.where(positive, GRADE_COMPLETED + GRADE_YIELD_SPAN / 2, grade)
    ratio = yld / max(float(np.median(yld[positive])), 1e-12)
    return np.where(positive, GRADE_COMPLETED + GRADE_YIELD_SPAN / 2 * np.clip(ratio, 0.0, 2.0), grade)


def dedupe_swaps(a: np.ndarray, b: np.ndarray, y: np.ndarray, completed: np.ndarray) -> np.ndarray:
    """Indices of the outcomes to keep, in their order. The exchange records a swap's accept
    and, when its campaign finishes, its completion: two outcomes of one swap. Each completion
    of an unordered pair absorbs one accept of that pair (the earliest not yet absorbed), so
    the swap counts once, at its best grade (a completion grades above an accept). Everything
    else is kept: failures (each decline is another try), accepts not (yet) completed, and
    repeated swaps of a pair (two completions are two swaps)."""
    n = len(a)
    keep = np.ones(n, bool)
    accepted = (y == 1) & ~completed
    done = (y == 1) & completed
    if not accepted.any() or not done.any():
        return np.flatnonzero(keep)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    _, pair = np.unique(np.stack([lo, hi], axis=1), axis=0, return_inverse=True)
    pair = pair.ravel()
    completions = np.bincount(pair[done], minlength=int(pair.max()) + 1)
    idx = np.flatnonzero(accepted)
    idx = idx[np.lexsort((idx, pair[idx]))]  # by pair, then order of arrival
    starts = np.searchsorted(pair[idx], pair[idx], side="left")
    rank = np.arange(len(idx)) - starts  # 0 for a pair's first accept, 1 for its second, …
    keep[idx[rank < completions[pair[idx]]]] = False
    return np.flatnonzero(keep)


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


def _features(market: Market, a, b, art: Artefact, names: tuple[str, ...]) -> np.ndarray:
    feats = pair_features(market, a, b, art)
    X = feature_matrix(feats, components(feats) @ HEURISTIC_WEIGHTS, names)
    return np.nan_to_num(X, nan=0.5) if names == PAIR_FEATURES else X  # the legacy model never saw NaN


def _oof_features(market: Market, a, b, y, completed, seed: int, names: tuple[str, ...]) -> np.ndarray:
    """Training rows' features with category statistics from the other folds (no leakage)."""
    X = np.zeros((len(a), len(names)), np.float32)
    n_splits = min(5, int(np.bincount(y.astype(int)).min())) if len(np.unique(y)) > 1 else 0
    if n_splits < 2:
        return _features(market, a, b, _stats_artefact(market, a, b, y, completed), names)
    for fit_idx, out_idx in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(a, y):
        art = _stats_artefact(market, a[fit_idx], b[fit_idx], y[fit_idx], completed[fit_idx])
        X[out_idx] = _features(market, a[out_idx], b[out_idx], art, names)
    return X


def _weights(q: np.ndarray, grade: np.ndarray, confidence: np.ndarray | None = None) -> np.ndarray:
    """Each query brand's rows weigh together like √(its count) rows (popular brands do not
    dominate); successes by grade, failures by confidence. Normalised to mean 1."""
    counts = np.bincount(q)[q].astype(np.float64)
    w = np.where(grade > 0, grade, 1.0) / np.sqrt(counts)
    if confidence is not None:
        w = w * confidence
    return w / w.mean()


def _within_brand_targets(q: np.ndarray, y: np.ndarray, prior: float) -> np.ndarray:
    """``y`` minus the query brand's success rate shrunk towards ``prior``: (s + k·prior) /
    (n + k) for a brand with s successes in n rows, k = noise variance ÷ between-brand variance
    of the rates (empirical Bayes: a brand seen once keeps most of its pointwise signal, a brand
    seen fifty times is compared with itself)."""
    n = np.bincount(q).astype(np.float64)
    s = np.bincount(q, weights=y.astype(np.float64))
    seen = n > 0
    rate = s[seen] / n[seen]
    noise = max(prior * (1 - prior), 1e-3)
    between = max(float(rate.var()) - noise * float(np.mean(1.0 / n[seen])), 0.01 * noise)
    k = noise / between
    mean = (s + k * prior) / np.maximum(n + k, 1e-9)
    return y - mean[q]


def _hyper(n: int, features: tuple[str, ...]) -> dict:
    return {
        "max_iter": 100,
        "learning_rate": 0.08,
        "max_leaf_nodes": 8,
        "min_samples_leaf": int(np.clip(n // 60, 5, 40)),
        "l2_regularization": 1.0,
        "monotonic_cst": [MONOTONIC.get(name, 0) for name in features],
        "early_stopping": False,
    }


def _classifier(n: int, seed: int, features: tuple[str, ...]) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**_hyper(n, features), random_state=seed)


def _regressor(n: int, seed: int, features: tuple[str, ...]) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(**_hyper(n, features), random_state=seed)


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


@dataclass
class Fitted:
    """A fitted model with what was needed to fit it (for importance and for the artefact)."""

    model: object
    X: np.ndarray  # training rows as fitted
    target: np.ndarray
    objective: str
    offset: float  # added to a within-brand regressor's output
    features: tuple[str, ...]

    def scoring(self) -> str:
        return "neg_mean_squared_error" if self.objective == "within_brand" else "neg_log_loss"


def _fit_recipe(
    market: Market,
    a,
    b,
    y,
    completed,
    grade,
    seed: int,
    confidence: np.ndarray | None = None,
    *,
    objective: str | None = None,
    model=None,
    features: tuple[str, ...] | None = None,
) -> Fitted:
    """Fit ``model`` (default: a fresh one for ``objective``, default ``OBJECTIVE``) on the
    outcomes ``a`` × ``b``."""
    objective = objective or OBJECTIVE
    features = features or LEARNED_FEATURES
    conf = np.ones(len(a)) if confidence is None else np.asarray(confidence, np.float64)
    X = _oof_features(market, a, b, y, completed, seed, features)
    prior = float(y.mean()) if len(y) else 0.5
    if objective == "within_brand":
        # each outcome is a row of both brands' lists: features from each side's point of view
        X_ba = _oof_features(market, b, a, y, completed, seed, features)
        X = np.concatenate([X, X_ba])
        q = np.concatenate([a, b])
        yy, gg, cc = np.tile(y, 2), np.tile(grade, 2), np.tile(conf, 2)
        target = _within_brand_targets(q, yy, prior)
        model = model if model is not None else _regressor(len(X), seed, features)
    else:
        q, yy, gg, cc, target = a, y, grade, conf, y
        model = model if model is not None else _classifier(len(X), seed, features)
    fit_X = snap_to_quantiles(X) if features != PAIR_FEATURES else X
    with threadpool_limits(limits=1, user_api="openmp"):  # small fits: threads only spin
        model.fit(fit_X, target, sample_weight=_weights(q, gg, cc))
    return Fitted(model, X, target, objective, prior if objective == "within_brand" else 0.0, features)


def _train_model(market: Market, a, b, y, completed, grade, seed: int, confidence: np.ndarray | None = None):
    """(model, training rows) of a new model (``OBJECTIVE``) on the outcomes ``a`` × ``b``."""
    fitted = _fit_recipe(market, a, b, y, completed, grade, seed, confidence)
    return fitted.model, fitted.X


def _refit_like(active: Artefact, market: Market, a, b, y, completed, grade, seed, confidence) -> Fitted:
    """The serving model's configuration — its hyper-parameters (an unfitted clone), features
    and objective — fitted on these outcomes only (a fold's training brands)."""
    return _fit_recipe(
        market,
        a,
        b,
        y,
        completed,
        grade,
        seed,
        confidence,
        objective=active.objective,
        model=clone(active.model),
        features=tuple(active.features),
    )


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


def _as_artefact(stats: Artefact, fitted: Fitted | None, blend: float) -> Artefact:
    """An artefact serving ``fitted`` with the category statistics of ``stats``."""
    art = _with_tables(Artefact(), stats)
    if fitted is not None:
        art.model, art.features, art.objective, art.offset = (
            fitted.model,
            fitted.features,
            fitted.objective,
            fitted.offset,
        )
        art.blend_weight = blend
    return art


def _heuristic_and_learned(market: Market, q, p, art: Artefact) -> tuple[np.ndarray, np.ndarray | None]:
    """The heuristic (with ``art``'s category statistics) and ``art``'s learned score."""
    feats = pair_features(market, q, p, art)
    heur = components(feats) @ HEURISTIC_WEIGHTS
    if art.model is None:
        return heur, None
    return heur, learned_probability(art, feature_matrix(feats, heur, art.features))


def group_weights(fitted: Fitted | None, blend: float, seed: int) -> tuple[float, ...]:
    """Share of the served score's weight per component: the heuristic's weights for its part,
    the model's permutation importance (grouped by component; the heuristic input spread by
    the heuristic's weights) for the learned part."""
    base = HEURISTIC_WEIGHTS.astype(np.float64) / HEURISTIC_WEIGHTS.sum()
    if fitted is None or blend <= 0:
        return tuple(float(v) for v in base)
    n = len(fitted.target)
    take = np.random.default_rng(seed).choice(n, size=min(n, 4000), replace=False)
    with threadpool_limits(limits=1, user_api="openmp"):
        imp = permutation_importance(
            fitted.model,
            fitted.X[take],
            fitted.target[take],
            n_repeats=3,
            random_state=seed,
            scoring=fitted.scoring(),
        ).importances_mean
    imp = np.maximum(imp, 0.0)
    learned = np.zeros(len(COMPONENTS))
    for name, v in zip(fitted.features, imp, strict=True):
        if name == "heuristic":
            learned += v * base
        else:
            learned[COMPONENTS.index(FEATURE_GROUPS[name])] += v
    learned = learned / learned.sum() if learned.sum() > 0 else base
    mix = (1 - blend) * base + blend * learned
    return tuple(round(float(v), 4) for v in mix / mix.sum())


# --- The held-out pools -------------------------------------------------------------------------
def _pools(market: Market, a, b, grade, explore, rng) -> dict[str, np.ndarray]:
    """Rows (query, partner, gain, query index, explored?) of every held-out list: each brand
    with a success and a failure among the partners it tried, in either role, ranks those
    partners (best grade per partner). Only tried pairs: their labels are known. Adding
    untried partners as failures would reward a model for recognising *which* pairs were tried
    (a history chosen by scale or an earlier recommender) instead of which ones work."""
    rows = np.concatenate([a, b])
    partners = np.concatenate([b, a])
    gains = np.concatenate([grade, grade])
    explored = np.concatenate([explore, explore])
    codes = rows * market.n + partners
    order = np.lexsort((-gains, codes))
    first = np.ones(len(order), bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    keep = np.sort(order[first])
    rows, partners, gains, explored = rows[keep], partners[keep], gains[keep], explored[keep]
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
        "queries": queries,
        "n": len(queries),
        "explore": explored[sel],
    }


def _sub_pool(pool: dict, rows: np.ndarray) -> dict:
    """The pool restricted to ``rows``, keeping only queries that still have a success and a
    failure (renumbered)."""
    q, g = pool["q"][rows], pool["gain"][rows]
    qid = pool["qid"][rows]
    pos = np.bincount(qid, weights=(g > 0).astype(float), minlength=pool["n"])
    neg = np.bincount(qid, weights=(g <= 0).astype(float), minlength=pool["n"])
    ok_q = (pos > 0) & (neg > 0)
    renum = np.full(pool["n"], -1, np.int64)
    renum[ok_q] = np.arange(int(ok_q.sum()))
    keep = ok_q[qid]
    return {"rows": np.flatnonzero(rows)[keep], "qid": renum[qid[keep]], "gain": g[keep], "n": int(ok_q.sum()), "q": q}


@dataclass
class FoldScores:
    """One brand split: every pool row scored by the models of the fold it is held out in."""

    blends: dict[float, np.ndarray]  # the candidate at each blend weight
    heuristic: np.ndarray
    active: np.ndarray | None  # the serving model, refitted on the fold's training outcomes


def _fold_scores(market: Market, a, b, y, completed, grade, conf, fold, pool, active, seed) -> FoldScores:
    """One brand split: every pool row scored by the model of the fold it is held out in (per
    blend), by the heuristic, and by the serving model's configuration refitted on the same
    fold's training outcomes (with the fold's category statistics)."""
    pool_fold = fold[pool["q"]]
    n_rows = len(pool["q"])
    scores = {w: np.zeros(n_rows) for w in BLENDS}
    heuristic = np.zeros(n_rows)
    active_scores = np.zeros(n_rows) if active is not None else None
    refit_active = active is not None and active.model is not None and active.blend_weight > 0
    for k in range(FOLDS):
        tr = (fold[a] != k) & (fold[b] != k)
        at = pool_fold == k
        if not at.any():
            continue
        q, p = pool["q"][at], pool["p"][at]
        heuristic[at] = score_pairs(market, q, p, HEURISTIC)[0]
        learnable = tr.sum() >= 2 and len(np.unique(y[tr])) > 1
        stats = _stats_artefact(market, a[tr], b[tr], y[tr], completed[tr]) if tr.any() else HEURISTIC
        if not learnable:  # nothing to learn from: the heuristic (with what statistics there are)
            heur_k, _ = _heuristic_and_learned(market, q, p, _as_artefact(stats, None, 0.0))
            for w in BLENDS:
                scores[w][at] = heur_k
            if active is not None:
                active_scores[at] = heur_k
            continue
        fitted = _fit_recipe(market, a[tr], b[tr], y[tr], completed[tr], grade[tr], seed, conf[tr])
        heur_k, learned = _heuristic_and_learned(market, q, p, _as_artefact(stats, fitted, 1.0))
        for w in BLENDS:
            scores[w][at] = (1 - w) * heur_k + w * learned
        if active is None:
            continue
        if refit_active:
            again = _refit_like(active, market, a[tr], b[tr], y[tr], completed[tr], grade[tr], seed, conf[tr])
            _, learned_a = _heuristic_and_learned(market, q, p, _as_artefact(stats, again, 1.0))
            w_a = active.blend_weight
            active_scores[at] = (1 - w_a) * heur_k + w_a * learned_a
        else:  # a model serving no learned share is the heuristic with its category statistics
            active_scores[at] = heur_k
    return FoldScores(scores, heuristic, active_scores)


def _pick_blend(means: dict[float, float]) -> float:
    """The smallest blend within ``BLEND_TOLERANCE`` of the best mean NDCG."""
    top = max(means.values())
    return min(w for w, v in means.items() if v >= top - BLEND_TOLERANCE)


def _compare(
    sub: dict, runs_scores: list[dict[str, np.ndarray]], names: tuple[str, ...], seed: int
) -> dict[str, np.ndarray]:
    """Per-query NDCG@10 and recall@10 of each named ranker on the (sub-)pool ``sub``,
    averaged over the brand splits."""
    out = {}
    for name in names:
        got = [grouped_metrics(sub["qid"], r[name][sub["rows"]], sub["gain"], sub["n"], seed=seed) for r in runs_scores]
        out[name] = (np.mean([g[0] for g in got], axis=0), np.mean([g[1] for g in got], axis=0))
    return out


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
    explore: np.ndarray | None = None,
) -> dict:
    """The gate's numbers (see the module docstring): the candidate's NDCG@10 (cross-fitted
    blend), the heuristic's and the serving model's, the paired bootstrap intervals of the
    candidate against the serving ranker and against the heuristic, the same on the explored
    outcomes, the final blend weight and the verdict (``gate``, and ``refused`` saying why)."""
    rng = np.random.default_rng(seed)
    brands = np.unique(np.concatenate([a, b]))
    folds = []
    for _ in range(REPEATS):  # each repeat its own brand split; per-brand metrics are averaged
        fold = np.full(market.n, -1, np.int64)
        fold[brands] = rng.permutation(len(brands)) % FOLDS
        folds.append(fold)
    conf = np.ones(len(a)) if confidence is None else confidence
    explore = np.zeros(len(a), bool) if explore is None else np.asarray(explore, bool)
    sure = conf >= 0.5  # a decline for timing says too little to score a ranking by
    pool = _pools(market, a[sure], b[sure], grade[sure], explore[sure], rng)
    n_q = pool["n"]
    runs = [_fold_scores(market, a, b, y, completed, grade, conf, fold, pool, active, seed) for fold in folds]
    everything = {"rows": np.arange(len(pool["q"])), "qid": pool["qid"], "gain": pool["gain"], "n": n_q}

    # The blend: per split and fold, chosen on the other folds' held-out brands (cross-fitted),
    # so the candidate's numbers are not measured on the queries that chose its blend.
    by_blend = [
        {w: grouped_metrics(pool["qid"], r.blends[w], pool["gain"], n_q, seed=seed)[0] for w in BLENDS} for r in runs
    ]
    cand_rows, chosen = [], []
    for r, fold, nd in zip(runs, folds, by_blend, strict=True):
        qfold = fold[pool["queries"]]
        row_fold = fold[pool["q"]]
        rows = np.zeros(len(pool["q"]))
        picks = []
        for k in range(FOLDS):
            others = qfold != k
            w = _pick_blend({w: float(v[others].mean()) for w, v in nd.items()}) if others.any() else 0.0
            picks.append(w)
            rows[row_fold == k] = r.blends[w][row_fold == k]
        cand_rows.append(rows)
        chosen.append(picks)
    final_blend = _pick_blend({w: float(np.mean([nd[w].mean() for nd in by_blend])) for w in BLENDS}) if n_q else 0.0

    runs_scores = [
        {"candidate": c, "heuristic": r.heuristic, **({"active": r.active} if active is not None else {})}
        for c, r in zip(cand_rows, runs, strict=True)
    ]
    names = ("candidate", "heuristic") + (("active",) if active is not None else ())
    per_q = _compare(everything, runs_scores, names, seed)
    baseline = "model" if active is not None else "heuristic"
    base_key = "active" if active is not None else "heuristic"
    cand_ndcg, cand_recall = per_q["candidate"]
    heur_ndcg, heur_recall = per_q["heuristic"]
    base_ndcg, base_recall = per_q[base_key]
    diff, low, high = paired_bootstrap(cand_ndcg - base_ndcg, seed=seed)
    h_diff, h_low, h_high = paired_bootstrap(cand_ndcg - heur_ndcg, seed=seed)

    # The explored outcomes alone: pairs the serving ranker did not choose.
    ex = _sub_pool(pool, pool["explore"])
    explore_metrics: dict = {"outcomes": int(explore.sum()), "queries": ex["n"]}
    explore_below = False
    if ex["n"]:
        per_e = _compare(ex, runs_scores, names, seed)
        e_diff, e_low, e_high = paired_bootstrap(per_e["candidate"][0] - per_e["heuristic"][0], seed=seed)
        explore_metrics.update(
            ndcg=float(per_e["candidate"][0].mean()),
            ndcg_heuristic=float(per_e["heuristic"][0].mean()),
            ndcg_diff_heuristic=e_diff,
            ndcg_diff_heuristic_low=e_low,
            ndcg_diff_heuristic_high=e_high,
        )
        if active is not None:
            explore_metrics["ndcg_active"] = float(per_e["active"][0].mean())
        explore_below = ex["n"] >= MIN_QUERIES and e_high < 0
    explored_rows = pool["explore"]
    labels = (pool["gain"] > 0).astype(int)
    if explored_rows.any():
        explore_metrics["auc"] = _auc(labels[explored_rows], cand_rows[0][explored_rows])
        explore_metrics["auc_heuristic"] = _auc(labels[explored_rows], runs[0].heuristic[explored_rows])

    refused = None
    if n_q < MIN_QUERIES:
        gate = GATE_TOO_FEW
    elif low <= 0:
        gate, refused = GATE_NOT_BETTER, REFUSED_NOT_BETTER
    elif h_high < 0:  # better than a serving model that is itself below the heuristic
        gate, refused = GATE_NOT_BETTER, REFUSED_BELOW_HEURISTIC
    elif explore_below:
        gate, refused = GATE_NOT_BETTER, REFUSED_BELOW_HEURISTIC_EXPLORED
    else:
        gate = GATE_PASSED

    def mean(v):
        return float(v.mean()) if n_q else None

    metrics = {
        "eval_queries": int(n_q),
        "folds": FOLDS,
        "repeats": REPEATS,
        "objective": OBJECTIVE,
        "baseline": baseline,
        "ndcg": mean(cand_ndcg),
        "recall": mean(cand_recall),
        "ndcg_heuristic": mean(heur_ndcg),
        "recall_heuristic": mean(heur_recall),
        "ndcg_baseline": mean(base_ndcg),
        "recall_baseline": mean(base_recall),
        # candidate − serving ranker (the active model, else the heuristic)
        "ndcg_diff": diff,
        "ndcg_diff_low": low,
        "ndcg_diff_high": high,
        # candidate − heuristic (the same numbers as above when the heuristic serves)
        "ndcg_diff_heuristic": h_diff,
        "ndcg_diff_heuristic_low": h_low,
        "ndcg_diff_heuristic_high": h_high,
        # in-sample NDCG@10 per blend weight (all held-out brands; the final blend's choice)
        "ndcg_by_blend": {str(w): round(float(np.mean([nd[w].mean() for nd in by_blend])), 4) for w in BLENDS}
        if n_q
        else {},
        "blend_weight": float(final_blend),
        "blend_by_fold": chosen,
        "explore": explore_metrics,
        "gate": gate,
        "refused": refused,
        "auc": _auc(labels, cand_rows[0]) if len(labels) else None,
        "auc_heuristic": _auc(labels, runs[0].heuristic) if len(labels) else None,
    }
    if active is not None:
        metrics["ndcg_active"] = metrics["ndcg_baseline"]
        a_diff, a_low, a_high = paired_bootstrap(base_ndcg - heur_ndcg, seed=seed)
        metrics.update(active_diff_heuristic=a_diff, active_diff_heuristic_low=a_low, active_diff_heuristic_high=a_high)
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
    slot: np.ndarray | None = None,
    seed: int = 0,
    active: Artefact | None = None,
    progress=lambda fraction, step: None,
) -> tuple[Artefact, dict]:
    """Train on outcome pairs (market rows ``a`` × ``b``; an accept and the completion of the
    same swap count once, ``dedupe_swaps``): the gate's
    evaluation on held-out brands, then the model refitted on every outcome with the blend the
    gate chose. Returns the artefact and metrics (``metrics["gate"]`` says whether it may
    serve). ``confidence`` (per outcome, default 1) scales its training weight; outcomes below
    ½ (a decline for timing) are left out of the gate's held-out lists. ``slot`` (per outcome,
    a ``SlotType`` value or "") marks the outcomes of explore slots (see the module docstring).

    ``progress(fraction, step)`` is called with a ``TrainingMessage`` at each step."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    y, completed = np.asarray(y, np.int64), np.asarray(completed, bool)
    grade = outcome_grades(market, a, b, y, completed, members)
    conf = np.ones(len(a)) if confidence is None else np.asarray(confidence, np.float64)
    explore = np.zeros(len(a), bool) if slot is None else np.asarray(slot).astype(str) == SlotType.EXPLORE.value
    received = len(a)
    keep = dedupe_swaps(a, b, y, completed)
    a, b, y, completed, grade, conf, explore = (v[keep] for v in (a, b, y, completed, grade, conf, explore))
    progress(0.2, TrainingMessage.TRAINING)
    progress(0.5, TrainingMessage.EVALUATING)
    metrics = evaluate_gate(
        market, a, b, y, completed, grade, seed=seed, active=active, confidence=conf, explore=explore
    )
    metrics.update(outcomes=len(a), positives=int(y.sum()), absorbed_accepts=received - len(a))
    progress(0.7, TrainingMessage.REFITTING)
    final = _stats_artefact(market, a, b, y, completed)
    final.features = LEARNED_FEATURES
    final.objective = OBJECTIVE
    final.offset = float(y.mean()) if len(y) and OBJECTIVE == "within_brand" else 0.0
    blend = metrics["blend_weight"]
    fitted = None
    if blend > 0 and len(np.unique(y)) > 1:
        fitted = _fit_recipe(market, a, b, y, completed, grade, seed, conf)
        final.model, final.offset = fitted.model, fitted.offset
        final.blend_weight = blend
    final.group_weights = group_weights(fitted, blend, seed)
    metrics["group_weights"] = dict(zip(COMPONENTS, final.group_weights, strict=True))
    progress(0.9, TrainingMessage.TRAINED)
    return final, metrics
