"""Reasons: 2–4 short sentences per recommendation, in zh-Hans and en, from the components
and the data behind them ("规模相当：活跃受众 12.0万 vs 9.6万").

Both languages are built at refresh time and stored on the Recommendation; the API picks
one by the request's language. Sentences are assembled from fixed templates rather than
gettext so both languages can be produced in one pass (a refresh writes both).
"""

from __future__ import annotations

import numpy as np

from matching.features import DIST_SLICES, REGIONS, Market, scale_label
from partners.validation import AUDIENCE_DIMENSIONS, CN_REGIONS, tone_label

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


def _tier(v: float) -> tuple[str, str]:
    return TIER_NAMES.get(int(round(float(v))), TIER_NAMES[3])


def _scale_reason(m: Market, i: int, j: int, fit: float) -> tuple[float, str, str]:
    a, b = m.scale[i], m.scale[j]
    za, zb, ea, eb = scale_label(a, "zh"), scale_label(b, "zh"), scale_label(a, "en"), scale_label(b, "en")
    if fit >= SCALE_COMPARABLE:
        return fit, f"规模相当：活跃受众 {za} vs {zb}", f"Comparable scale: {ea} vs {eb} active audience"
    return fit * 0.5, f"规模有差距：活跃受众 {za} vs {zb}", f"Different scale: {ea} vs {eb} active audience"


def _positioning_reason(m: Market, i: int, j: int, fit: float) -> tuple[float, str, str] | None:
    ti, tj = _tier(m.tier[i]), _tier(m.tier[j])
    theirs = set(m.tones[j])
    shared = [t for t in m.tones[i] if t in theirs][:3]
    if ti == tj:
        zh, en = f"同为{ti[0]}定位", f"Both {ti[1]}"
    elif abs(m.tier[i] - m.tier[j]) <= 1:
        zh, en = f"定位相邻（{ti[0]} / {tj[0]}）", f"Neighbouring price tiers ({ti[1]} / {tj[1]})"
    elif not shared:
        return None
    else:
        zh, en = "", ""
    if shared:
        zt = "、".join(tone_label(t, "zh-hans") for t in shared)
        et = ", ".join(tone_label(t, "en") for t in shared)
        zh = f"{zh}，调性相近（{zt}）" if zh else f"调性相近（{zt}）"
        en = f"{en}, similar tone ({et})" if en else f"Similar tone ({et})"
    return fit, zh, en


def _audience_reason(m: Market, i: int, j: int, fit: float) -> tuple[float, str, str] | None:
    age = AUDIENCE_DIMENSIONS["age"]
    if m.dist_known[i, 1] and m.dist_known[j, 1]:
        ai = int(np.argmax(m.dist[i, DIST_SLICES["age"]]))
        aj = int(np.argmax(m.dist[j, DIST_SLICES["age"]]))
        if ai == aj:
            zh_age, en_age = AGE_NAMES[age[ai]]
            gender_zh = gender_en = ""
            if m.dist_known[i, 0] and m.dist_known[j, 0]:
                fi, fj = m.dist[i, DIST_SLICES["gender"]][0], m.dist[j, DIST_SLICES["gender"]][0]
                if fi >= 0.55 and fj >= 0.55:
                    gender_zh, gender_en = "女性", "women"
                elif fi <= 0.45 and fj <= 0.45:
                    gender_zh, gender_en = "男性", "men"
            en = (
                f"Similar audience: mostly {gender_en} aged {en_age}"
                if gender_en
                else f"Similar audience: mostly aged {en_age}"
            )
            return fit, f"客群相近：{zh_age}{gender_zh}为主", en
    shared = np.flatnonzero((m.regions[i] > 0) & (m.regions[j] > 0))[:3]
    if len(shared):
        names = [CN_REGIONS[REGIONS[r]] for r in shared]
        return (
            fit * 0.9,
            "覆盖地区重合：" + "、".join(n[0] for n in names),
            "Shared regions: " + ", ".join(n[1] for n in names),
        )
    return None


def _category_reason(m: Market, i: int, j: int, fit: float, completion: float, count: float) -> tuple[float, str, str]:
    (zi, ei), (zj, ej) = m.leaf_names[m.cat[i]], m.leaf_names[m.cat[j]]
    if count >= 3:
        pct = round(100 * completion)
        if fit >= 0.6:
            return (
                fit,
                f"品类互补：{zi} × {zj}，历史置换完成率 {pct}%",
                f"Complementary categories: {ei} × {ej}, {pct}% of past swaps completed",
            )
        return (
            fit * 0.5,
            f"跨品类：{zi} × {zj}，历史置换完成率 {pct}%",
            f"Cross-category: {ei} × {ej}, {pct}% of past swaps completed",
        )
    return 0.3, f"品类不冲突：{zi} × {zj}，无直接竞争", f"No direct competition: {ei} × {ej}"


def reasons(
    m: Market, i: int, j: int, comps: np.ndarray, completion: float, count: float
) -> tuple[list[str], list[str]]:
    """(zh-Hans reasons, en reasons) for recommending row ``j`` to row ``i``; 2–4 each, the
    strongest component first."""
    scale, positioning, audience, category = (float(x) for x in comps)
    always = [_scale_reason(m, i, j, scale), _category_reason(m, i, j, category, completion, count)]
    optional = [r for r in (_positioning_reason(m, i, j, positioning), _audience_reason(m, i, j, audience)) if r]
    ranked = sorted(always + optional, key=lambda r: -r[0])
    chosen = [r for r in ranked if r[0] >= STRONG][:MAX_REASONS]
    for r in ranked:
        if len(chosen) >= MIN_REASONS:
            break
        if r not in chosen:
            chosen.append(r)
    return [r[1] for r in chosen], [r[2] for r in chosen]
