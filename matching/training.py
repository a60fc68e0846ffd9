"""Training the learned ranker from outcomes (pure: arrays in, Artefact + metrics out).

Labels: a swap accepted or completed is a success (1); declined, or a recommendation the
brand dismissed, is a failure (0). Completed swaps weigh more (1.5).

Category-pair statistics are target-derived, so the training rows see them *out of fold*
(5 folds): a row's ``category_rate`` never counts its own outcome. Offline metric: ROC AUC
of the blended score on a stratified 25 % hold-out, beside the heuristic's AUC on the
same rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from matching.features import Market
from matching.models import TrainingMessage
from matching.ranker import (
    HEURISTIC_WEIGHTS,
    PAIR_FEATURES,
    Artefact,
    category_counts,
    components,
    feature_matrix,
    pair_features,
    score_pairs,
)

FULL_TRUST_OUTCOMES = 2000  # at this many outcomes the learned score gets its full weight
# The learned probability never gets more than half the weight: trained on proposals, it
# ranks pairs the market already tried well, but the interpretable components (with the
# learned category affinity) generalise better to pairs nobody tried (see docs/MATCHING.md).
MAX_BLEND = 0.5


def _stats_artefact(market: Market, a, b, y, completed) -> Artefact:
    L = len(market.leaf_ids)
    succ, cnt, comp = category_counts(market.cat[a], market.cat[b], y, completed, L)
    prior = float(y.mean()) if len(y) else 0.5
    return Artefact(leaf_ids=market.leaf_ids.copy(), cat_success=succ, cat_count=cnt, cat_completed=comp, prior=prior)


def _oof_features(market: Market, a, b, y, completed, seed: int) -> np.ndarray:
    X = np.zeros((len(a), len(PAIR_FEATURES)), np.float32)
    n_splits = min(5, int(np.bincount(y.astype(int)).min())) if len(np.unique(y)) > 1 else 0
    if n_splits < 2:
        art = _stats_artefact(market, a, b, y, completed)
        return _features(market, a, b, art)
    for fit_idx, out_idx in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(a, y):
        art = _stats_artefact(market, a[fit_idx], b[fit_idx], y[fit_idx], completed[fit_idx])
        X[out_idx] = _features(market, a[out_idx], b[out_idx], art)
    return X


def _features(market: Market, a, b, art: Artefact) -> np.ndarray:
    feats = pair_features(market, a, b, art)
    return feature_matrix(feats, components(feats) @ HEURISTIC_WEIGHTS)


def _auc(y, s) -> float | None:
    return float(roc_auc_score(y, s)) if len(np.unique(y)) > 1 else None


def fit(
    market: Market,
    a: np.ndarray,
    b: np.ndarray,
    y: np.ndarray,
    completed: np.ndarray,
    *,
    seed: int = 0,
    active: Artefact | None = None,
    progress=lambda fraction, step: None,
) -> tuple[Artefact, dict]:
    """Train on outcome pairs (market rows ``a`` × ``b``). Returns the artefact and metrics.

    ``progress(fraction, step)`` is called with a ``TrainingMessage`` at each step."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    y, completed = np.asarray(y, np.int64), np.asarray(completed, bool)
    weights = np.where(completed, 1.5, 1.0)
    idx = np.arange(len(a))
    stratify = y if np.bincount(y, minlength=2).min() >= 2 else None
    tr, ho = train_test_split(idx, test_size=0.25, random_state=seed, stratify=stratify)

    def model_for(rows) -> GradientBoostingClassifier:
        X = _oof_features(market, a[rows], b[rows], y[rows], completed[rows], seed)
        clf = GradientBoostingClassifier(
            n_estimators=120, max_depth=3, learning_rate=0.08, subsample=0.9, random_state=seed
        )
        clf.fit(X, y[rows], sample_weight=weights[rows])
        return clf

    progress(0.2, TrainingMessage.TRAINING)
    blend = MAX_BLEND * min(1.0, len(a) / FULL_TRUST_OUTCOMES)
    held = _stats_artefact(market, a[tr], b[tr], y[tr], completed[tr])
    held.model, held.blend_weight = model_for(tr), blend
    progress(0.5, TrainingMessage.EVALUATING)
    heur_art = _stats_artefact(market, a[tr], b[tr], y[tr], completed[tr])
    heur_score, _, _ = score_pairs(market, a[ho], b[ho], heur_art)
    blended, _, learned = score_pairs(market, a[ho], b[ho], held)
    metrics = {
        "outcomes": len(a),
        "positives": int(y.sum()),
        "train_size": len(tr),
        "holdout_size": len(ho),
        "auc_heuristic": _auc(y[ho], heur_score),
        "auc_learned": _auc(y[ho], learned),
        "auc": _auc(y[ho], blended),
        "blend_weight": blend,
    }
    if active is not None:
        active_score, _, _ = score_pairs(market, a[ho], b[ho], active)
        metrics["auc_active"] = _auc(y[ho], active_score)
    progress(0.7, TrainingMessage.REFITTING)
    final = _stats_artefact(market, a, b, y, completed)
    final.model, final.blend_weight = model_for(idx), blend
    progress(0.9, TrainingMessage.TRAINED)
    return final, metrics
