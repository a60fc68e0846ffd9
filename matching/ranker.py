"""Scoring a (brand, partner) pair: interpretable components, the heuristic, the learned blend.

Components, each in [0, 1]:
  * scale        — comparable active audience: exp(-½ (Δ log10 / 0.5)²); 2× apart → 0.84, 10× → 0.14
  * positioning  — ½ price-tier closeness + ½ tone: tag overlap (Jaccard) and description
                   similarity (cosine of the char-n-gram TF-IDF rows' 16-d LSA projection)
  * audience     — overlap of gender / age / city-tier shares, region Jaccard, channel-mix
                   overlap; only dimensions both brands filled in count (none → 0.5)
  * category     — the category pair's smoothed success rate learned from outcomes
                   ((successes + α·prior) / (n + α)); 0.5 everywhere before any outcome

heuristic = Σ weight × component. With a trained model the final score is
``(1 − w) · heuristic + w · learned``, where ``learned`` in [0, 1] is the model's score of the
pair (``learned_probability``) and w (the model's ``blend_weight``) is chosen by the training
gate (``matching.training``); cold start is w = 0.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import joblib
import numpy as np
from django.utils.translation import gettext_lazy as _
from threadpoolctl import threadpool_limits

from matching.features import DIST_DIMS, DIST_SLICES, Market

COMPONENTS = ("scale", "positioning", "audience", "category")
HEURISTIC_WEIGHTS = np.array([0.30, 0.25, 0.30, 0.15], np.float32)
PAIR_FEATURES = (
    "scale_fit",
    "tier_fit",
    "tone_sim",
    "audience_fit",
    "channel_fit",
    "category_rate",
    "category_confidence",
    "scale_gap",
    "tier_gap",
    "heuristic",
)
# What each feature is, for people (the matcher page lists a model's features by these).
FEATURE_LABELS = {
    "scale_fit": _("Scale fit"),
    "tier_fit": _("Price tier closeness"),
    "tone_sim": _("Tone similarity"),
    "audience_fit": _("Audience fit"),
    "channel_fit": _("Channel mix overlap"),
    "category_rate": _("Past swap success rate of the category pair"),
    "category_confidence": _("Past swaps of the category pair"),
    "scale_gap": _("Scale gap"),
    "tier_gap": _("Price tier gap"),
    "heuristic": _("Heuristic score"),
    "scale_gap_signed": _("Scale gap, signed (partner larger < 0)"),
    "partner_larger": _("Partner larger by (scale gap)"),
    "partner_smaller": _("Partner smaller by (scale gap)"),
    "tag_overlap": _("Shared tone tags"),
    "text_sim": _("Description similarity"),
    "gender_overlap": _("Gender mix overlap"),
    "age_overlap": _("Age band overlap"),
    "city_tier_overlap": _("City tier overlap"),
    "region_overlap": _("Region overlap"),
}
# The learned ranker (issue 12) sees each dimension on its own, so it can learn that one
# matters and another is noise in a given market. A dimension either brand left empty is NaN
# (HistGradientBoosting routes missing values itself) rather than a made-up neutral value.
LEARNED_FEATURES = (
    "scale_gap",
    "partner_larger",
    "partner_smaller",
    "tier_gap",
    "tag_overlap",
    "text_sim",
    "gender_overlap",
    "age_overlap",
    "city_tier_overlap",
    "region_overlap",
    "channel_fit",
    "category_rate",
    "category_confidence",
    "heuristic",
)
# Where the domain is certain: a larger scale or price-tier gap never makes a pair better, a
# category pair that succeeded more often never makes it worse (HistGradientBoosting's
# ``monotonic_cst``: +1 increasing, −1 decreasing, 0 free). Every feature that moves with the
# scale gap must carry the constraint, or the model could reward a gap through it:
#   * the signed gap is split into how much larger (``partner_larger``) and how much smaller
#     (``partner_smaller``) the partner is, each decreasing — a market may still punish one
#     direction more than the other (an asymmetric effect), but never reward a wider gap.
#     (A free signed gap let the model undo ``scale_gap``'s constraint: for a fixed sign the
#     signed gap *is* the absolute gap.)
#   * the heuristic is increasing: it is a fixed, interpretable score that falls as the gap
#     (or tier gap) widens, so a higher heuristic is never worse; free, it was a second door.
# Every other feature is free: a market may reward or punish audience overlap.
MONOTONIC = {
    "scale_gap": -1,
    "partner_larger": -1,
    "partner_smaller": -1,
    "tier_gap": -1,
    "category_rate": 1,
    "heuristic": 1,
}
# Feature → the component (and reason) it belongs to, for "what the model weighs".
FEATURE_GROUPS = {
    "scale_fit": "scale",
    "scale_gap": "scale",
    "scale_gap_signed": "scale",
    "partner_larger": "scale",
    "partner_smaller": "scale",
    "tier_fit": "positioning",
    "tier_gap": "positioning",
    "tone_sim": "positioning",
    "tag_overlap": "positioning",
    "text_sim": "positioning",
    "audience_fit": "audience",
    "gender_overlap": "audience",
    "age_overlap": "audience",
    "city_tier_overlap": "audience",
    "region_overlap": "audience",
    "channel_fit": "audience",
    "category_rate": "category",
    "category_confidence": "category",
}
SCALE_SIGMA = 0.5
CATEGORY_PRIOR_STRENGTH = 4.0


@dataclass
class Artefact:
    """What a trained model needs at serving time (pickled into MatcherModel.artefact)."""

    version: int = 0
    leaf_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cat_success: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    cat_count: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    cat_completed: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    prior: float = 0.5
    model: object | None = None
    blend_weight: float = 0.0
    # The columns ``model`` was fitted on, in order. A class-level default (not a factory) so
    # artefacts pickled before issue 12 load with the feature set they were trained on.
    features: tuple = PAIR_FEATURES
    # Share of the model's weight per component (COMPONENTS order), from permutation
    # importance at training; reasons are ordered by it. Empty: the heuristic's weights.
    group_weights: tuple = ()
    # How ``model`` was trained, so its score is read the same way and the training gate can
    # refit the same recipe on a fold (``matching.training``). Class-level defaults: artefacts
    # pickled before these fields existed were pointwise classifiers.
    objective: str = "pointwise"  # "pointwise" (P(success)) | "within_brand" (regression)
    offset: float = 0.0  # added to a within-brand regressor's output (the success prior)

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump(self, buf, compress=3)
        return buf.getvalue()

    @staticmethod
    def loads(data: bytes) -> Artefact:
        return joblib.load(io.BytesIO(bytes(data)))

    def category_tables(self, market: Market) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(smoothed success rate, outcome count, completion rate) as market-leaf × market-leaf
        matrices (the model may have been trained when the taxonomy was ordered differently)."""
        cache = getattr(self, "_tables", None)
        key = (id(market.leaf_ids), len(market.leaf_ids))
        if cache is not None and cache[0] == key:
            return cache[1]
        L = len(market.leaf_ids)
        succ = np.zeros((L, L), np.float32)
        cnt = np.zeros((L, L), np.float32)
        comp = np.zeros((L, L), np.float32)
        if len(self.leaf_ids):
            pos = {int(c): i for i, c in enumerate(self.leaf_ids)}
            src = np.array([pos.get(int(c), -1) for c in market.leaf_ids])
            ok = src >= 0
            ix = np.ix_(np.flatnonzero(ok), np.flatnonzero(ok))
            sx = np.ix_(src[ok], src[ok])
            succ[ix], cnt[ix], comp[ix] = self.cat_success[sx], self.cat_count[sx], self.cat_completed[sx]
        a = CATEGORY_PRIOR_STRENGTH
        rate = (succ + a * self.prior) / (cnt + a)
        completion = np.where(cnt > 0, comp / np.maximum(cnt, 1), 0.0).astype(np.float32)
        tables = (rate.astype(np.float32), cnt, completion)
        self._tables = (key, tables)
        return tables

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_tables", None)
        return state


HEURISTIC = Artefact()


def category_counts(
    cat_a: np.ndarray, cat_b: np.ndarray, labels: np.ndarray, completed: np.ndarray, n_leaves: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric leaf × leaf tallies of successes, outcomes and completions."""
    succ = np.zeros((n_leaves, n_leaves), np.float32)
    cnt = np.zeros((n_leaves, n_leaves), np.float32)
    comp = np.zeros((n_leaves, n_leaves), np.float32)
    for a, b in ((cat_a, cat_b), (cat_b, cat_a)):
        np.add.at(succ, (a, b), labels.astype(np.float32))
        np.add.at(cnt, (a, b), 1.0)
        np.add.at(comp, (a, b), completed.astype(np.float32))
    # a same-leaf pair (never recommended, but may appear in history) was counted twice
    diag = cat_a == cat_b
    if diag.any():
        np.add.at(succ, (cat_a[diag], cat_b[diag]), -labels[diag].astype(np.float32))
        np.add.at(cnt, (cat_a[diag], cat_b[diag]), -1.0)
        np.add.at(comp, (cat_a[diag], cat_b[diag]), -completed[diag].astype(np.float32))
    return succ, cnt, comp


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.minimum(a, b).sum(axis=1)


def _jaccard_bits(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(|A ∩ B| / |A ∪ B|, both non-empty) for uint64 bit sets."""
    inter = np.bitwise_count(a & b).astype(np.float32)
    union = np.bitwise_count(a | b).astype(np.float32)
    both = (a != 0) & (b != 0)
    return np.where(both, inter / np.maximum(union, 1.0), 0.0), both


def pair_features(market: Market, rows: np.ndarray, cols: np.ndarray, artefact: Artefact) -> dict[str, np.ndarray]:
    """Raw pair features for brand rows ``rows`` × partner rows ``cols`` (same length)."""
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    signed = market.log_scale[cols] - market.log_scale[rows]  # > 0: the partner is larger
    gap = np.abs(signed)
    scale_fit = np.exp(-0.5 * (gap / SCALE_SIGMA) ** 2)
    tier_gap = np.abs(market.tier[rows] - market.tier[cols])
    tier_fit = np.clip(1.0 - tier_gap / 4.0, 0.0, 1.0)
    # tone: ½ exact tag overlap + ½ similarity of the TF-IDF (char n-gram) text, via its LSA rows
    tag_overlap, tag_known = _jaccard_bits(market.tone_bits[rows], market.tone_bits[cols])
    text_sim = np.clip(np.einsum("ij,ij->i", market.text_dense[rows], market.text_dense[cols]), 0.0, 1.0)
    tone_sim = 0.5 * tag_overlap + 0.5 * text_sim

    # audience: mean over the dimensions both sides filled in
    da, db = market.dist[rows], market.dist[cols]
    ka, kb = market.dist_known[rows], market.dist_known[cols]
    total = np.zeros(len(rows), np.float32)
    weight = np.zeros(len(rows), np.float32)
    per_dim = {}
    for k, dim in enumerate(DIST_DIMS):
        both = ka[:, k] & kb[:, k]
        sl = DIST_SLICES[dim]
        w = 1.5 if dim == "age" else 1.0
        overlap = _overlap(da[:, sl], db[:, sl])
        per_dim[f"{dim}_overlap"] = np.where(both, overlap, np.nan).astype(np.float32)
        total += np.where(both, w * overlap, 0.0)
        weight += np.where(both, w, 0.0)
    region_overlap, has_r = _jaccard_bits(market.region_bits[rows], market.region_bits[cols])
    total += region_overlap
    weight += has_r
    ca, cb = market.chan[rows], market.chan[cols]
    has_c = (ca.sum(axis=1) > 0) & (cb.sum(axis=1) > 0)
    # NaN (unknown) when a side has no channel mix: the learner routes missing values itself;
    # the audience component leaves the dimension out, the legacy model reads it as 0.5.
    channel_fit = np.where(has_c, _overlap(ca, cb), np.nan)
    total += np.where(has_c, 0.5 * channel_fit, 0.0)
    weight += np.where(has_c, 0.5, 0.0)
    audience_fit = np.where(weight > 0, total / np.maximum(weight, 1e-9), 0.5)

    rate, cnt, _ = artefact.category_tables(market)
    qa, qb = market.cat[rows], market.cat[cols]
    return {
        "scale_fit": scale_fit.astype(np.float32),
        "tier_fit": tier_fit.astype(np.float32),
        "tone_sim": tone_sim.astype(np.float32),
        "audience_fit": audience_fit.astype(np.float32),
        "channel_fit": channel_fit.astype(np.float32),
        "category_rate": rate[qa, qb],
        "category_confidence": np.log1p(cnt[qa, qb]).astype(np.float32),
        "scale_gap": gap.astype(np.float32),
        "tier_gap": tier_gap.astype(np.float32),
        # per dimension, for the learned ranker (NaN: a side left it empty)
        "partner_larger": np.maximum(signed, 0.0).astype(np.float32),
        "partner_smaller": np.maximum(-signed, 0.0).astype(np.float32),
        # models trained before the split of the signed gap (still loadable)
        "scale_gap_signed": (-signed).astype(np.float32),
        "tag_overlap": np.where(tag_known, tag_overlap, np.nan).astype(np.float32),
        "text_sim": text_sim.astype(np.float32),
        "region_overlap": np.where(has_r, region_overlap, np.nan).astype(np.float32),
        **per_dim,
    }


def components(feats: dict[str, np.ndarray]) -> np.ndarray:
    """[n, 4] matrix of scale, positioning, audience, category — each in [0, 1]."""
    positioning = 0.5 * feats["tier_fit"] + 0.5 * feats["tone_sim"]
    return np.clip(
        np.column_stack([feats["scale_fit"], positioning, feats["audience_fit"], feats["category_rate"]]), 0.0, 1.0
    ).astype(np.float32)


def feature_matrix(
    feats: dict[str, np.ndarray], heuristic: np.ndarray, names: tuple[str, ...] = PAIR_FEATURES
) -> np.ndarray:
    """The model's input columns ``names`` (``heuristic`` is the heuristic score)."""
    cols = [heuristic if name == "heuristic" else feats[name] for name in names]
    return np.column_stack(cols).astype(np.float32)


def learned_probability(artefact: Artefact, X: np.ndarray) -> np.ndarray:
    """The model's score in [0, 1] for feature rows ``X``: P(success) for a pointwise
    classifier; for a within-brand regressor (``objective == "within_brand"``) the success
    prior plus the predicted deviation from the brand's own rate, clipped to [0, 1]. A model
    fitted on the per-dimension features takes NaN for a missing dimension; the legacy one
    never saw NaN."""
    if artefact.features == PAIR_FEATURES:
        X = np.nan_to_num(X, nan=0.5)
    # OpenMP threads spin-wait: on a busy machine a small batch is many times slower with
    # them than without; large batches (a full refresh) use the pool.
    with threadpool_limits(limits=1 if len(X) < 200_000 else None, user_api="openmp"):
        if artefact.objective == "within_brand":
            return np.clip(artefact.offset + artefact.model.predict(X), 0.0, 1.0).astype(np.float32)
        return artefact.model.predict_proba(X)[:, 1].astype(np.float32)


def score_pairs(
    market: Market, rows: np.ndarray, cols: np.ndarray, artefact: Artefact
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(final score in [0, 1], components [n, 4], learned probability or None)."""
    if len(rows) == 0:
        return np.zeros(0, np.float32), np.zeros((0, 4), np.float32), None
    feats = pair_features(market, rows, cols, artefact)
    comps = components(feats)
    heuristic = comps @ HEURISTIC_WEIGHTS
    if artefact.model is None or artefact.blend_weight <= 0:
        return heuristic.astype(np.float32), comps, None
    learned = learned_probability(artefact, feature_matrix(feats, heuristic, artefact.features))
    w = artefact.blend_weight
    return ((1 - w) * heuristic + w * learned).astype(np.float32), comps, learned


def serves_model(artefact: Artefact) -> bool:
    """True when a trained model takes part in the served score."""
    return artefact.model is not None and artefact.blend_weight > 0


def prefilter(
    market: Market, rows: np.ndarray, cand: np.ndarray, artefact: Artefact, keep: int, *, chunk: int = 4096
) -> np.ndarray:
    """The ``keep`` best of each row's candidates by the heuristic part of the served score
    (with ``artefact``'s category statistics; no model call), in that order, −1 padded.

    Issue 12: a trained model serves ``(1 − w) · heuristic + w · P``; the embedding's nearest
    partners miss many of its top-10, so a wider pool is searched and this cheap pass (pair
    features only, the model's predict is ~2.5× their cost) keeps what the ranker scores."""
    rows = np.asarray(rows, np.int64)
    q, c = cand.shape
    if keep >= c:
        return cand
    out = np.full((q, keep), -1, np.int64)
    for start in range(0, q, chunk):
        cs = cand[start : start + chunk]
        valid = cs >= 0
        qq = np.repeat(rows[start : start + chunk], c)[valid.ravel()]
        feats = pair_features(market, qq, cs[valid], artefact)
        S = np.full(cs.shape, -np.inf, np.float32)
        S[valid] = components(feats) @ HEURISTIC_WEIGHTS
        top = np.argpartition(-S, keep - 1, axis=1)[:, :keep]
        top_s = np.take_along_axis(S, top, axis=1)
        order = np.argsort(-top_s, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        picked = np.take_along_axis(cs, top, axis=1)
        picked[~np.isfinite(np.take_along_axis(top_s, order, axis=1))] = -1
        out[start : start + len(cs)] = picked
    return out


def rank_candidates(
    market: Market, rows: np.ndarray, cand: np.ndarray, artefact: Artefact, k: int, *, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score every candidate of each query row and keep the best ``k``.

    Returns (partner rows [q, k] with −1 for none, scores [q, k], components [q, k, 4],
    learned probability [q, k] — NaN without a trained model).
    """
    rows = np.asarray(rows, np.int64)
    q, c = cand.shape
    k_eff = min(k, c)
    out_p = np.full((q, k), -1, np.int64)
    out_s = np.zeros((q, k), np.float32)
    out_c = np.zeros((q, k, len(COMPONENTS)), np.float32)
    out_l = np.full((q, k), np.nan, np.float32)
    for start in range(0, q, chunk):
        cs = cand[start : start + chunk]
        rs = rows[start : start + chunk]
        valid = cs >= 0
        flat = valid.ravel()
        qq = np.repeat(rs, c)[flat]
        pp = cs.ravel()[flat]
        score, comps, learned = score_pairs(market, qq, pp, artefact)
        S = np.full(cs.shape, -np.inf, np.float32)
        S[valid] = score
        C = np.zeros(cs.shape + (len(COMPONENTS),), np.float32)
        C[valid] = comps
        Lr = np.full(cs.shape, np.nan, np.float32)
        if learned is not None:
            Lr[valid] = learned
        order = np.argsort(-S, axis=1, kind="stable")[:, :k_eff]
        top_s = np.take_along_axis(S, order, axis=1)
        top_p = np.take_along_axis(cs, order, axis=1)
        top_p[~np.isfinite(top_s)] = -1
        sl = slice(start, start + len(cs))
        out_p[sl, :k_eff] = top_p
        out_s[sl, :k_eff] = np.where(np.isfinite(top_s), top_s, 0.0)
        out_c[sl, :k_eff] = np.take_along_axis(C, order[:, :, None], axis=1)
        out_l[sl, :k_eff] = np.take_along_axis(Lr, order, axis=1)
    return out_p, out_s, out_c, out_l
