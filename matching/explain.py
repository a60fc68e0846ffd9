"""Reasons: 2–4 short sentences per recommendation, in zh-Hans and en, from the components
and the data behind them ("规模相当：活跃受众 12万 vs 9.6万").

Both languages are built at refresh time and stored on the Recommendation; the API picks
one by the request's language. Sentences are assembled from fixed templates rather than
gettext so both languages can be produced in one pass (a refresh writes both).
"""

from __future__ import annotations

import numpy as np
from django.utils import translation

from matching.features import DIST_SLICES, REGIONS, Market, scale_label
from matching.ranker import FEATURE_LABELS, pair_features
from partners.reference import AUDIENCE_DIMENSIONS, CN_REGIONS, tone_label

TIER_NAMES = {
    1: ("大众", "mass-market"),
    2: ("平价", "affordable"),
    3: ("中端", "mid-range"),
    4: ("高端", "premium"),
    5: ("奢华", "luxury"),
}
AGE_NAMES = {
    "<18": ("18岁以下", "under 18"),
    "18-24": ("18–24岁", "18–24"),
    "25-34": ("25–34岁", "25–34"),
    "35-44": ("35–44岁", "35–44"),
    "45+": ("45岁以上", "45+"),
}
MIN_REASONS, MAX_REASONS = 2, 4
STRONG = 0.5
SCALE_COMPARABLE = 0.75  # within ≈ 2× of each other
# The "what the model weighs" reason names this many of the serving model's features.
MODEL_FEATURES_NAMED = 2
# How a feature's value is quoted in that reason (default: a share, "82%").
_RATIO_FEATURES = {"scale_gap", "partner_larger", "partner_smaller", "scale_gap_signed"}  # log10 gaps
_COUNT_FEATURES = {"category_confidence"}  # log1p(past swaps)
_PLAIN_FEATURES = {"tier_gap"}  # price tiers


def reasons(
    m: Market, i: int, j: int, comps: np.ndarray, completion: np.ndarray, count: np.ndarray
) -> tuple[list[str], list[str]]:
    """(zh-Hans reasons, en reasons) for recommending row ``j`` to row ``i``: 2–4 each, the
    strongest component first. ``completion``/``count``: leaf × leaf tables."""
    ids, zh, en = explain_batch(m, np.array([i]), np.array([j]), np.asarray(comps)[None, :], completion, count)
    chosen = [x for x in ids[0] if x >= 0]
    return [zh[x] for x in chosen], [en[x] for x in chosen]


# --- Batch (vectorised) ---------------------------------------------------------------------
# A full refresh explains a million pairs. The pairs are reduced to keys (numbers) with NumPy;
# each *distinct* key is rendered once into a table of (zh, en) sentences, and every pair gets
# up to four ids into that table, in the same order ``reasons`` would choose.
def _age_band(m: Market, rows: np.ndarray) -> np.ndarray:
    band = np.argmax(m.dist[rows, DIST_SLICES["age"]], axis=1)
    return np.where(m.dist_known[rows, 1], band, -1)


def _gender(m: Market, rows: np.ndarray) -> np.ndarray:
    female = m.dist[rows, DIST_SLICES["gender"].start]
    g = np.where(female >= 0.55, 1, np.where(female <= 0.45, 2, 0))
    return np.where(m.dist_known[rows, 0], g, 0)


def _unique(*cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the given integer columns → (unique [u, k], inverse [n]).

    Each column is first replaced by its rank among its own distinct values, so the row
    becomes one mixed-radix int64 and a 1-D ``np.unique`` does the rest (much faster than
    ``np.unique(axis=0)`` on a million rows)."""
    values, codes, radix = [], [], []
    for c in cols:
        v, inv = np.unique(np.asarray(c), return_inverse=True)
        values.append(v)
        codes.append(inv.ravel().astype(np.int64))
        radix.append(len(v))
    key = np.zeros(len(codes[0]), np.int64)
    for code, r in zip(codes, radix, strict=True):
        key = key * r + code
    uniq_key, inverse = np.unique(key, return_inverse=True)
    parts = []
    for r in reversed(radix):
        parts.append(uniq_key % r)
        uniq_key = uniq_key // r
    uniq = np.column_stack([v[p].astype(object) for v, p in zip(values, reversed(parts), strict=True)])
    return uniq, inverse.ravel()


def explain_batch(
    m: Market,
    src: np.ndarray,
    dst: np.ndarray,
    comps: np.ndarray,
    completion: np.ndarray,
    count: np.ndarray,
    weights: np.ndarray | None = None,
    model_features: list[tuple[str, float]] | None = None,
    feature_values: dict[str, np.ndarray] | None = None,
    blend: float = 0.0,
) -> tuple[np.ndarray, list[str], list[str]]:
    """Reasons for many pairs at once: (ids [n, 4] into the tables, −1 = none; zh table; en table).

    ``completion`` and ``count`` are the leaf × leaf tables of ``Artefact.category_tables``.
    Gives the same sentences, in the same order, as ``reasons`` pair by pair. ``weights``
    (per component, COMPONENTS order): what the serving model weighs — the reasons are
    ordered by strength × weight, so a trained model that learned audience matters most leads
    with the audience; which reasons are chosen still depends on their strength alone.

    ``model_features`` (``feature_weights``: (feature, share), heaviest first) and
    ``feature_values`` (``ranker.pair_features`` of the pairs): a trained model serves with
    weight ``blend``; one more reason names the features it weighs most, with this pair's
    value of each ("模型最看重：性别构成重合 82%、地区重合 40%"), a strong reason led by
    the blend weight.
    """
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    n = len(src)
    zh_table: list[str] = []
    en_table: list[str] = []
    width = 5 if model_features else 4  # the four components (+ what the model weighs)
    ids = np.full((n, width), -1, np.int64)
    strength = np.full((n, width), -1.0, np.float32)
    if n == 0:
        return ids[:, :4], zh_table, en_table

    def add(render, uniq) -> int:
        base = len(zh_table)
        for key in uniq:
            zh, en = render(key)
            zh_table.append(zh)
            en_table.append(en)
        return base

    scale, positioning, audience, category = (comps[:, k].astype(np.float32) for k in range(4))

    # scale — always present; pair-specific text, so built column-wise (object arrays: the
    # string concatenation runs in NumPy's loop, not the interpreter's)
    comparable = scale >= SCALE_COMPARABLE
    lab_zh = np.empty(m.n, object)
    lab_en = np.empty(m.n, object)
    for r in np.unique(np.concatenate([src, dst])).tolist():
        lab_zh[r], lab_en[r] = scale_label(m.scale[r], "zh"), scale_label(m.scale[r], "en")
    zh_col = (
        np.where(comparable, "规模相当：活跃受众 ", "规模有差距：活跃受众 ").astype(object)
        + lab_zh[src]
        + " vs "
        + lab_zh[dst]
    )
    en_col = (
        np.where(comparable, "Comparable scale: ", "Different scale: ").astype(object)
        + lab_en[src]
        + " vs "
        + lab_en[dst]
        + " active audience"
    )
    ids[:, 0] = len(zh_table) + np.arange(n)
    zh_table.extend(zh_col.tolist())
    en_table.extend(en_col.tolist())
    strength[:, 0] = np.where(comparable, scale, scale * 0.5)

    # positioning — same or neighbouring tier, or shared tone tags
    ti = np.rint(m.tier[src]).astype(np.int64)
    tj = np.rint(m.tier[dst]).astype(np.int64)
    shared = m.tone_bits[src] & m.tone_bits[dst]
    has = (np.abs(ti - tj) <= 1) | (shared != 0)
    if has.any():
        uniq, inv = _unique(ti[has], tj[has], shared[has])

        def render_pos(key):
            a, b, bits = int(key[0]), int(key[1]), int(key[2])
            tags = m.bit_tags(bits)[:3]
            ta, tb = TIER_NAMES.get(a, TIER_NAMES[3]), TIER_NAMES.get(b, TIER_NAMES[3])
            if a == b:
                zh, en = f"同为{ta[0]}定位", f"Both {ta[1]}"
            elif abs(a - b) <= 1:
                zh, en = f"定位相邻（{ta[0]} / {tb[0]}）", f"Neighbouring price tiers ({ta[1]} / {tb[1]})"
            else:
                zh, en = "", ""
            if tags:
                zt = "、".join(tone_label(t, "zh-hans") for t in tags)
                et = ", ".join(tone_label(t, "en") for t in tags)
                zh = f"{zh}，调性相近（{zt}）" if zh else f"调性相近（{zt}）"
                en = f"{en}, similar tone ({et})" if en else f"Similar tone ({et})"
            return zh, en

        ids[has, 1] = add(render_pos, uniq) + inv
        strength[has, 1] = positioning[has]

    # audience — same dominant age band (and gender), else shared regions
    bi, bj = _age_band(m, src), _age_band(m, dst)
    gi, gj = _gender(m, src), _gender(m, dst)
    same_age = (bi >= 0) & (bi == bj)
    if same_age.any():
        g = np.where(gi == gj, gi, 0)[same_age]
        uniq, inv = _unique(bi[same_age], g)
        age_keys = AUDIENCE_DIMENSIONS["age"]

        def render_age(key):
            zh_age, en_age = AGE_NAMES[age_keys[int(key[0])]]
            gz, ge = {1: ("女性", "women"), 2: ("男性", "men")}.get(int(key[1]), ("", ""))
            en = f"Similar audience: mostly {ge} aged {en_age}" if ge else f"Similar audience: mostly aged {en_age}"
            return f"客群相近：{zh_age}{gz}为主", en

        ids[same_age, 2] = add(render_age, uniq) + inv
        strength[same_age, 2] = audience[same_age]
    shared_r = m.region_bits[src] & m.region_bits[dst]
    by_region = ~same_age & (shared_r != 0)
    if by_region.any():
        uniq, inv = _unique(shared_r[by_region])

        def render_region(key):
            bits = int(key[0])
            names = [CN_REGIONS[REGIONS[b]] for b in range(len(REGIONS)) if bits >> b & 1][:3]
            return "覆盖地区重合：" + "、".join(x[0] for x in names), "Shared regions: " + ", ".join(
                x[1] for x in names
            )

        ids[by_region, 2] = add(render_region, uniq) + inv
        strength[by_region, 2] = audience[by_region] * 0.9

    # category — always present
    ci, cj = m.cat[src].astype(np.int64), m.cat[dst].astype(np.int64)
    cnt = count[ci, cj]
    kind = np.where(cnt >= 3, np.where(category >= 0.6, 2, 1), 0)
    pct = np.where(cnt >= 3, np.rint(100 * completion[ci, cj]), 0).astype(np.int64)
    uniq, inv = _unique(ci, cj, kind, pct)

    def render_cat(key):
        (zi, ei), (zj, ej) = m.leaf_names[int(key[0])], m.leaf_names[int(key[1])]
        k, p = int(key[2]), int(key[3])
        if k == 2:
            return (
                f"品类互补：{zi} × {zj}，历史置换完成率 {p}%",
                f"Complementary categories: {ei} × {ej}, {p}% of past swaps completed",
            )
        if k == 1:
            return (
                f"跨品类：{zi} × {zj}，历史置换完成率 {p}%",
                f"Cross-category: {ei} × {ej}, {p}% of past swaps completed",
            )
        return f"品类不冲突：{zi} × {zj}，无直接竞争", f"No direct competition: {ei} × {ej}"

    ids[:, 3] = add(render_cat, uniq) + inv
    strength[:, 3] = np.where(kind == 2, category, np.where(kind == 1, category * 0.5, 0.3))

    # what the serving model weighs — its heaviest features this pair has a value for
    w_model = 1.0
    if model_features and feature_values is not None:
        names = [name for name, _share in model_features if name in feature_values]
        vals = np.column_stack([np.asarray(feature_values[name], np.float64)[:n] for name in names])
        known = ~np.isnan(vals)
        # the first MODEL_FEATURES_NAMED known features of each pair, heaviest first
        pick = np.argsort(~known, axis=1, kind="stable")[:, :MODEL_FEATURES_NAMED]
        picked_known = np.take_along_axis(known, pick, axis=1)
        quoted = np.rint(_quote_scale(names)[None, :] * np.nan_to_num(vals)).astype(np.int64)
        picked_val = np.take_along_axis(quoted, pick, axis=1)
        has_m = picked_known[:, 0]
        if has_m.any():
            cols = []
            for c in range(pick.shape[1]):
                cols += [np.where(picked_known[:, c], pick[:, c], -1)[has_m], picked_val[has_m, c]]
            uniq, inv = _unique(*cols)
            labels = _labels(names)

            def render_model(key):
                parts_zh, parts_en = [], []
                for c in range(0, len(key), 2):
                    f = int(key[c])
                    if f < 0:
                        continue
                    value = _quote(names[f], int(key[c + 1]))
                    parts_zh.append(f"{labels[f][0]} {value}")
                    parts_en.append(f"{labels[f][1]} {value}")
                return "模型最看重：" + "、".join(parts_zh), "What the model weighs most: " + "; ".join(parts_en)

            ids[has_m, 4] = add(render_model, uniq) + inv
            strength[has_m, 4] = STRONG + 0.5 * float(blend)
            w_model = float(blend)

    # choose: every strong reason (≥ 0.5), at most 4, at least 2 — by strength (times what
    # the model weighs, when it says) first
    key = strength
    if weights is not None and len(weights) == 4:
        w = np.asarray(weights, np.float32)
        w = w / max(float(w.max()), 1e-9)
        if width == 5:
            w = np.append(w, w_model)
        key = np.where(strength >= 0, strength * (0.25 + 0.75 * w[None, :]), -1.0)
    order = np.argsort(-key, axis=1, kind="stable")
    ids = np.take_along_axis(ids, order, axis=1)
    ordered = np.take_along_axis(strength, order, axis=1)
    n_valid = (ordered >= 0).sum(axis=1)
    n_take = np.minimum(np.minimum(np.maximum((ordered >= STRONG).sum(axis=1), MIN_REASONS), n_valid), MAX_REASONS)
    # the n_take best by the ordering key, but never drop a strong reason for a weak one
    strong_first = np.argsort(-(np.where(ordered >= STRONG, 1.0, 0.0)), axis=1, kind="stable")
    ids = np.take_along_axis(ids, strong_first, axis=1)
    ids[np.arange(width)[None, :] >= n_take[:, None]] = -1
    return ids[:, :4], zh_table, en_table


def _quote_scale(names: list[str]) -> np.ndarray:
    """Factor turning each feature's value into the integer its reason quotes (see ``_quote``)."""
    return np.array(
        [10.0 if n in _RATIO_FEATURES else 1.0 if n in _PLAIN_FEATURES | _COUNT_FEATURES else 100.0 for n in names]
    )


def _quote(name: str, q: int) -> str:
    """A feature's value as its reason quotes it: a gap in scale as a ratio ("×2.5"), past
    swaps as a count, a tier gap as a number, anything else (overlaps, similarities, rates) as
    a share."""
    if name in _RATIO_FEATURES:
        return f"×{10 ** (abs(q) / 10):.1f}"
    if name in _COUNT_FEATURES:
        return str(round(float(np.expm1(q))))
    if name in _PLAIN_FEATURES:
        return str(q)
    return f"{q}%"


def _labels(names: list[str]) -> list[tuple[str, str]]:
    """(zh-Hans, en) label of each feature (``ranker.FEATURE_LABELS``, the matcher page's)."""
    out = []
    for name in names:
        label = FEATURE_LABELS.get(name, name)
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        out.append((zh, en[:1].lower() + en[1:]))
    return out


def feature_weights(artefact) -> list[tuple[str, float]]:
    """What the serving model weighs: (feature, share of the model's weight), heaviest first;
    [] when the heuristic serves. The share is the artefact's own ``feature_weights`` when it
    carries them, else each feature's total split gain over the model's trees (the booster's
    own importance — computed once per artefact, no data needed). The ``heuristic`` input is
    left out: it is the fixed mix the other reasons already describe."""
    if artefact is None or artefact.model is None or artefact.blend_weight <= 0:
        return []
    cached = artefact.__dict__.get("_feature_weights")
    if cached is not None and cached[0] is artefact.model:
        return cached[1]
    stored = getattr(artefact, "feature_weights", None)
    if stored:
        raw = {name: float(v) for name, v in dict(stored).items()}
    else:
        names = tuple(artefact.features)
        gains = np.zeros(len(names))
        for stage in getattr(artefact.model, "_predictors", None) or []:
            for tree in stage:
                nodes = tree.nodes
                inner = nodes["is_leaf"] == 0
                np.add.at(gains, nodes["feature_idx"][inner].astype(np.int64), np.maximum(nodes["gain"][inner], 0.0))
        raw = dict(zip(names, gains.tolist(), strict=True))
    raw.pop("heuristic", None)
    total = sum(v for v in raw.values() if v > 0)
    value = sorted(((name, v / total) for name, v in raw.items() if v > 0), key=lambda x: -x[1]) if total > 0 else []
    # on the object, for its model: computed once per loaded artefact (a copy given another
    # model recomputes)
    artefact.__dict__["_feature_weights"] = (artefact.model, value)
    return value


def explain_pairs(m: Market, rows, partners: np.ndarray, scores, comps, learned, artefact):
    """A refresh's top-k arrays (as ``ranker.rank_candidates`` returns them) flattened to the
    valid (row, partner) pairs and explained in one vectorised batch.

    Returns (query index, rank index, partner row, reason ids, zh table, en table, scores,
    components, learned) — one entry per pair; ``artefact`` gives the category tables."""
    _, count, completion = artefact.category_tables(m)
    valid = partners >= 0
    q_idx, r_idx = np.nonzero(valid)
    src, dst = np.asarray(rows)[q_idx], partners[valid]
    weights = artefact.group_weights if artefact.model is not None and artefact.blend_weight > 0 else None
    named = feature_weights(artefact)
    values = None
    if named and len(src):
        values = pair_features(m, src, dst, artefact)
    ids, zh, en = explain_batch(
        m,
        src,
        dst,
        comps[valid],
        completion,
        count,
        weights or None,
        model_features=named,
        feature_values=values,
        blend=artefact.blend_weight,
    )
    return q_idx, r_idx, dst, ids, zh, en, scores[valid], comps[valid], learned[valid]
