"""A synthetic market with known ground truth, for evaluation and benchmarks.

Each brand has a hidden *style* (tier, tone, audience) and a true audience profile; its
public profile is a noisy view of it (10 % of audience dimensions missing). The true
utility of a pair is

    u = 1.0·scale fit + 0.6·tier fit + 0.6·tone overlap + 0.8·age overlap
        + 0.3·gender overlap + 0.3·region overlap + bonus[category a, category b]

where ``bonus`` is hidden from the features: complementary pairs (+1.0, e.g. coffee ×
bakery), clashing pairs (−1.0, e.g. alcohol × kids' education) and a small random effect
for every other pair. The outcome history samples proposals (mostly between brands of
similar scale, as real marketers do) whose success follows u — so category affinity is only
learnable from outcomes. Competition: same leaf, plus admin rules (``RULES``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.features import CHANNEL_TYPES, REGIONS, BrandInput
from partners.reference import AUDIENCE_DIMENSIONS, TONE_LABELS
from partners.taxonomy import TAXONOMY

_codes = [c for c, _, _ in TAXONOMY]
LEAVES: list[tuple[str, str, str]] = [t for t in TAXONOMY if not any(o.startswith(t[0] + ".") for o in _codes)]
RULES = [
    ("beverage.coffee", "beverage.tea_drinks"),
    ("beauty.skincare", "retail.drugstore"),
    ("toys.collectibles", "toys.kids"),
]
COMPLEMENTARY = [
    ("beverage.coffee", "food.bakery"),
    ("beauty.skincare", "beauty.fragrance"),
    ("apparel.sportswear", "fitness"),
    ("toys.kids", "education.kids"),
    ("mother_baby", "apparel.kids"),
    ("beverage.tea_leaf", "food.bakery"),
    ("restaurant.hotpot", "beverage.alcohol"),
    ("pets", "home.furniture"),
    ("travel.hotels", "accessories.eyewear"),
    ("food.snacks", "toys.collectibles"),
    ("health.supplements", "fitness"),
    ("electronics.audio", "apparel.menswear"),
]
CLASHING = [
    ("beverage.alcohol", "education.kids"),
    ("beverage.alcohol", "mother_baby"),
    ("restaurant.fast_food", "fitness"),
    ("restaurant.fast_food", "health.supplements"),
    ("accessories.jewelry", "retail.supermarket"),
    ("beauty.makeup", "home.paint"),
    ("food.frozen", "travel.hotels"),
    ("electronics.phones", "pets"),
]
STYLES = [  # (tones, tier, female share, peak age band index)
    (["young", "urban", "trendy", "social", "playful"], 3, 0.65, 1),
    (["premium", "elegant", "quality", "classic"], 4, 0.6, 3),
    (["luxury", "elegant", "premium", "artisan"], 5, 0.7, 3),
    (["value", "mass", "family", "warm"], 1, 0.5, 3),
    (["healthy", "natural", "sporty", "outdoor"], 3, 0.45, 2),
    (["tech", "minimal", "professional"], 4, 0.3, 2),
    (["cute", "playful", "young", "national"], 2, 0.75, 1),
    (["family", "warm", "quality", "healthy"], 3, 0.7, 2),
]
TONES = list(TONE_LABELS)


@dataclass
class GeneratedMarket:
    brands: list[BrandInput]
    leaves: list[tuple[int, str, str]]  # (category id, zh, en)
    leaf_codes: list[str]
    competing: dict[int, set[int]]
    bonus: np.ndarray  # [L, L] hidden category-pair effect
    cat: np.ndarray  # leaf index per brand
    log_scale: np.ndarray
    tier: np.ndarray
    tone_bits: np.ndarray  # [N, T] true tone set
    age: np.ndarray  # true age shares [N, 5]
    female: np.ndarray
    regions: np.ndarray  # [N, R]
    outcome_a: np.ndarray
    outcome_b: np.ndarray
    outcome_y: np.ndarray
    outcome_completed: np.ndarray
    outcome_members: np.ndarray  # [n, 2] new members (completed swaps)

    def utility(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """True utility of pairs (generator rows = market rows when built in order)."""
        d = self.log_scale[rows] - self.log_scale[cols]
        scale = np.exp(-0.5 * (d / 0.5) ** 2)
        tier = 1 - np.abs(self.tier[rows] - self.tier[cols]) / 4
        ta, tb = self.tone_bits[rows], self.tone_bits[cols]
        inter = (ta & tb).sum(axis=1)
        tone = inter / np.maximum((ta | tb).sum(axis=1), 1)
        age = np.minimum(self.age[rows], self.age[cols]).sum(axis=1)
        gender = 1 - np.abs(self.female[rows] - self.female[cols])
        ra, rb = self.regions[rows], self.regions[cols]
        reg = (ra & rb).sum(axis=1) / np.maximum((ra | rb).sum(axis=1), 1)
        return (
            1.0 * scale
            + 0.6 * tier
            + 0.6 * tone
            + 0.8 * age
            + 0.3 * gender
            + 0.3 * reg
            + self.bonus[self.cat[rows], self.cat[cols]]
        )

    def competes(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Independent of the Market's matrix: recomputed from ``competing`` (category ids)."""
        ids = np.array([lid for lid, _, _ in self.leaves])
        out = np.zeros(len(rows), bool)
        for k, (r, c) in enumerate(zip(rows, cols, strict=False)):
            out[k] = int(ids[self.cat[c]]) in self.competing[int(ids[self.cat[r]])]
        return out


def generate_market(
    n: int,
    *,
    seed: int = 0,
    n_outcomes: int | None = None,
    category_ids: dict[str, int] | None = None,
    slug_prefix: str = "gen",
) -> GeneratedMarket:
    """``n`` approved brands (in-memory) and an outcome history (default 2 per 3 brands, ≤ 20,000).
    ``category_ids`` maps leaf codes to real Category ids when the market goes to the database."""
    rng = np.random.default_rng(seed)
    codes = [c for c, _, _ in LEAVES]
    L = len(codes)
    pos = {c: i for i, c in enumerate(codes)}
    ids = [category_ids[c] if category_ids else i + 1 for i, c in enumerate(codes)]
    leaves = [(ids[i], zh, en) for i, (_, zh, en) in enumerate(LEAVES)]
    competing = {ids[i]: {ids[i]} for i in range(L)}
    for a, b in RULES:
        competing[ids[pos[a]]].add(ids[pos[b]])
        competing[ids[pos[b]]].add(ids[pos[a]])
    bonus = rng.normal(0, 0.2, (L, L))
    bonus = (bonus + bonus.T) / 2
    for pairs, value in ((COMPLEMENTARY, 1.0), (CLASHING, -1.0)):
        for a, b in pairs:
            bonus[pos[a], pos[b]] = bonus[pos[b], pos[a]] = value

    weights = 1 / np.arange(1, L + 1) ** 0.6
    cat = rng.permutation(L)[rng.choice(L, size=n, p=weights / weights.sum())].astype(np.int32)
    style = rng.integers(0, len(STYLES), n)
    log_scale = np.clip(rng.normal(4.3, 0.8, n), 2.0, 7.5)
    tier = np.clip(np.rint(np.array([STYLES[s][1] for s in style]) + rng.normal(0, 0.7, n)), 1, 5)
    tone_bits = np.zeros((n, len(TONES)), bool)
    female = np.clip(np.array([STYLES[s][2] for s in style]) + rng.normal(0, 0.1, n), 0.05, 0.95)
    age = np.zeros((n, 5))
    for i in range(n):
        tones = STYLES[style[i]][0]
        for t in rng.choice(tones, size=min(len(tones), rng.integers(2, 4)), replace=False):
            tone_bits[i, TONES.index(t)] = True
        if rng.random() < 0.2:
            tone_bits[i, rng.integers(len(TONES))] = True
        alpha = np.full(5, 0.6)
        alpha[STYLES[style[i]][3]] += 3.0
        age[i] = rng.dirichlet(alpha)
    regions = rng.random((n, len(REGIONS))) < 0.05
    regions[np.arange(n), rng.integers(0, len(REGIONS), n)] = True

    ages = AUDIENCE_DIMENSIONS["age"]
    brands: list[BrandInput] = []
    for i in range(n):
        audience: dict = {}
        if rng.random() > 0.1:
            audience["gender"] = {"female": round(float(female[i]), 3), "male": round(1 - float(female[i]), 3)}
        if rng.random() > 0.1:
            audience["age"] = {a: round(float(v), 3) for a, v in zip(ages, age[i], strict=False)}
        if rng.random() > 0.1:
            ct = rng.dirichlet(np.ones(4))
            audience["city_tier"] = {
                c: round(float(v), 3) for c, v in zip(AUDIENCE_DIMENSIONS["city_tier"], ct, strict=False)
            }
        if rng.random() > 0.1:
            audience["regions"] = [REGIONS[r] for r in np.flatnonzero(regions[i])]
        total = 10 ** log_scale[i]
        types = rng.choice(len(CHANNEL_TYPES), size=rng.integers(1, 5), replace=False)
        shares = rng.dirichlet(np.ones(len(types)))
        tones = [TONES[t] for t in np.flatnonzero(tone_bits[i])]
        zh, en = LEAVES[cat[i]][1], LEAVES[cat[i]][2]
        brands.append(
            BrandInput(
                id=i + 1,
                slug=f"{slug_prefix}-{i + 1}",
                category_id=ids[cat[i]],
                price_tier=int(tier[i]),
                tone_tags=tones,
                description=f"{zh}品牌 {en} brand, {' '.join(tones)}",
                audience=audience,
                active_audience=float(round(total)),
                channels={CHANNEL_TYPES[t]: float(total * s) for t, s in zip(types, shares, strict=False)},
            )
        )

    gm = GeneratedMarket(
        brands=brands,
        leaves=leaves,
        leaf_codes=codes,
        competing=competing,
        bonus=bonus,
        cat=cat,
        log_scale=log_scale,
        tier=tier,
        tone_bits=tone_bits,
        age=age,
        female=female,
        regions=regions,
        outcome_a=np.zeros(0, np.int64),
        outcome_b=np.zeros(0, np.int64),
        outcome_y=np.zeros(0, np.int64),
        outcome_completed=np.zeros(0, bool),
        outcome_members=np.zeros((0, 2), np.int64),
    )
    _outcomes(gm, rng, n_outcomes if n_outcomes is not None else min(20000, 2 * n // 3))
    return gm


def _outcomes(gm: GeneratedMarket, rng: np.random.Generator, m: int) -> None:
    n = len(gm.brands)
    if m == 0 or n < 3:
        return
    order = np.argsort(gm.log_scale)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    a = rng.integers(0, n, 3 * m)
    near = order[np.clip(rank[a] + rng.integers(-max(2, n // 20), max(2, n // 20) + 1, 3 * m), 0, n - 1)]
    b = np.where(rng.random(3 * m) < 0.7, near, rng.integers(0, n, 3 * m))
    ok = (a != b) & ~gm.competes(a, b)
    a, b = a[ok][:m], b[ok][:m]
    u = gm.utility(a, b)
    p = 1 / (1 + np.exp(-4 * (u - np.median(u))))
    y = (rng.random(len(a)) < p).astype(np.int64)
    completed = (y == 1) & (rng.random(len(a)) < 0.75)
    small = np.minimum(10 ** gm.log_scale[a], 10 ** gm.log_scale[b])
    members = np.where(completed[:, None], np.rint(small[:, None] * 0.02 * rng.uniform(0.5, 1.5, (len(a), 2))), 0)
    gm.outcome_a, gm.outcome_b, gm.outcome_y, gm.outcome_completed = a, b, y, completed
    gm.outcome_members = members.astype(np.int64)


def outcome_records(gm: GeneratedMarket) -> list[dict]:
    """The outcome history in the ``import_outcomes`` JSON Lines format."""
    out = []
    for a, b, y, c, (ma, mb) in zip(
        gm.outcome_a, gm.outcome_b, gm.outcome_y, gm.outcome_completed, gm.outcome_members, strict=False
    ):
        rec = {
            "a": gm.brands[a].slug,
            "b": gm.brands[b].slug,
            "outcome": "completed" if c else ("accepted" if y else "declined"),
        }
        if c:
            rec.update(a_new_members=int(ma), b_new_members=int(mb))
        out.append(rec)
    return out
