"""A family of generated markets whose latent truth varies, to check that learning helps on
markets the ranker was not designed on (``manage.py evaluate_matcher --family``).

Every member starts from ``generator.generate_market``'s brands (hidden style → noisy public
profile) and draws its own truth:

* **weights** — random across scale, tier, tone tags, description, gender, age, city tier,
  regions and channel mix; each dimension is switched off with probability ⅓ (an observed
  feature that carries no signal), at least two stay on;
* **shapes** — each dimension's similarity goes through a random shape: linear, a threshold
  (only above a random cut counts), convex (square) or concave (square root); the scale term
  has its own width, and may prefer a *larger* partner (an asymmetric, signed effect);
* **category pairs** — random complementary and clashing leaf pairs of random strength plus a
  random effect of random size everywhere else;
* **outcomes** — success with probability ``sigmoid(β (u − median))`` (β random: sharp or
  soft), labels flipped with a random rate (label noise), completed swaps report new members;
* **biased histories** — proposing brands drawn by popularity (a few brands try far more
  often), partners chosen by a mix of similar scale, an earlier recommender (the heuristic's
  top 20) and random, in random proportions. The recommender's picks are recorded as ranked
  slots and the random ones as explore slots (``SlotType``), as the exchange records them:
  the explored outcomes are the history's unbiased sample, which the gate checks separately.

One member is pure noise (outcomes independent of everything): the gate must refuse it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from matching import candidates, generator, ranker, training
from matching.evaluation import ndcg_at_k
from matching.features import Market, build_market
from matching.models import SlotType
from partners.reference import AUDIENCE_DIMENSIONS

DIMENSIONS = ("scale", "tier", "tone", "text", "gender", "age", "city_tier", "region", "channel")
SHAPES = ("linear", "threshold", "convex", "concave")


@dataclass
class Truth:
    """A member's latent rules (what makes a good swap there)."""

    weights: dict[str, float]
    shapes: dict[str, str]
    cuts: dict[str, float]
    scale_sigma: float
    prefer_larger: float  # utility per decade the partner is larger (signed effect)
    bonus: np.ndarray  # [L, L] category-pair effect
    beta: float
    label_noise: float
    popularity: float  # spread of the proposers' propensity (0 = uniform)
    mix: tuple[float, float, float]  # partner choice: similar scale, earlier recommender, random
    pure_noise: bool = False

    def describe(self) -> str:
        if self.pure_noise:
            return "pure noise"
        on = sorted(((w, d) for d, w in self.weights.items() if w > 0), reverse=True)
        main = ",".join(f"{d}{'*' if self.shapes[d] != 'linear' else ''}" for _, d in on[:3])
        return f"{main} noise={self.label_noise:.2f} β={self.beta:.0f} rec={self.mix[1]:.1f}"


@dataclass
class FamilyMarket:
    index: int
    market: Market
    truth: Truth
    gm: generator.GeneratedMarket
    city_tier: np.ndarray
    a: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    completed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    members: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    slot: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U8"))  # SlotType value or ""

    def utility(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        t, gm, m = self.truth, self.gm, self.market
        if t.pure_noise:
            return np.zeros(len(rows))
        sims: dict[str, np.ndarray] = {}
        d = gm.log_scale[cols] - gm.log_scale[rows]
        sims["scale"] = np.exp(-0.5 * (d / t.scale_sigma) ** 2)
        sims["tier"] = 1 - np.abs(gm.tier[rows] - gm.tier[cols]) / 4
        ta, tb = gm.tone_bits[rows], gm.tone_bits[cols]
        sims["tone"] = (ta & tb).sum(axis=1) / np.maximum((ta | tb).sum(axis=1), 1)
        sims["text"] = np.clip(np.einsum("ij,ij->i", m.text_dense[rows], m.text_dense[cols]), 0, 1)
        sims["gender"] = 1 - np.abs(gm.female[rows] - gm.female[cols])
        sims["age"] = np.minimum(gm.age[rows], gm.age[cols]).sum(axis=1)
        sims["city_tier"] = np.minimum(self.city_tier[rows], self.city_tier[cols]).sum(axis=1)
        ra, rb = gm.regions[rows], gm.regions[cols]
        sims["region"] = (ra & rb).sum(axis=1) / np.maximum((ra | rb).sum(axis=1), 1)
        sims["channel"] = np.minimum(m.chan[rows], m.chan[cols]).sum(axis=1)
        u = t.bonus[gm.cat[rows], gm.cat[cols]] + t.prefer_larger * np.clip(d, -2, 2)
        for dim, w in t.weights.items():
            if w > 0:
                u = u + w * _shape(sims[dim], t.shapes[dim], t.cuts[dim])
        return u


def _shape(x: np.ndarray, shape: str, cut: float) -> np.ndarray:
    if shape == "threshold":
        return (x >= cut).astype(np.float64)
    if shape == "convex":
        return x**2
    if shape == "concave":
        return np.sqrt(np.maximum(x, 0))
    return x


def draw_truth(rng: np.random.Generator, n_leaves: int, *, pure_noise: bool = False) -> Truth:
    weights = {}
    for dim in DIMENSIONS:
        weights[dim] = 0.0 if rng.random() < 1 / 3 else float(rng.gamma(2.0, 0.5))
    on = [d for d in DIMENSIONS if weights[d] > 0]
    for dim in rng.choice([d for d in DIMENSIONS if d not in on], size=max(0, 2 - len(on)), replace=False):
        weights[str(dim)] = float(rng.gamma(2.0, 0.5))
    shapes = {d: str(rng.choice(SHAPES, p=[0.4, 0.2, 0.2, 0.2])) for d in DIMENSIONS}
    cuts = {d: float(rng.uniform(0.3, 0.7)) for d in DIMENSIONS}
    bonus = rng.normal(0, rng.uniform(0.0, 0.3), (n_leaves, n_leaves))
    pairs = rng.integers(0, n_leaves, (int(rng.integers(10, 60)), 2))
    for i, (x, z) in enumerate(pairs):
        bonus[x, z] = float(rng.uniform(0.3, 1.5)) * (1 if i % 2 == 0 else -1)
    bonus = np.triu(bonus) + np.triu(bonus, 1).T  # symmetric
    mix = rng.dirichlet([1.5, 1.0, 1.0])
    return Truth(
        weights=weights,
        shapes=shapes,
        cuts=cuts,
        scale_sigma=float(rng.uniform(0.3, 1.0)),
        prefer_larger=float(rng.choice([0.0, 0.0, rng.uniform(-0.3, 0.3)])),
        bonus=bonus,
        beta=float(rng.uniform(2.0, 8.0)),
        label_noise=float(rng.uniform(0.0, 0.2)),
        popularity=float(rng.uniform(0.0, 1.5)),
        mix=(float(mix[0]), float(mix[1]), float(mix[2])),
        pure_noise=pure_noise,
    )


def family_market(n: int, index: int, *, seed: int = 0, n_outcomes: int | None = None) -> FamilyMarket:
    """Member ``index`` of the family (member 0 is pure noise), ``n`` brands."""
    rng = np.random.default_rng([seed, index, 12])
    gm = generator.generate_market(n, seed=int(rng.integers(1 << 31)), n_outcomes=0)
    market = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing, seed=seed)
    city_tier = np.zeros((n, len(AUDIENCE_DIMENSIONS["city_tier"])))
    for i, brand in enumerate(gm.brands):
        shares = brand.audience.get("city_tier")
        city_tier[i] = [shares[c] for c in AUDIENCE_DIMENSIONS["city_tier"]] if shares else rng.dirichlet(np.ones(4))
    truth = draw_truth(rng, len(gm.leaves), pure_noise=index == 0)
    fm = FamilyMarket(index=index, market=market, truth=truth, gm=gm, city_tier=city_tier)
    _history(fm, rng, n_outcomes if n_outcomes is not None else min(20000, 2 * n // 3))
    return fm


def _history(fm: FamilyMarket, rng: np.random.Generator, m: int) -> None:
    market, t = fm.market, fm.truth
    n = market.n
    if m == 0 or n < 3:
        return
    propensity = np.exp(t.popularity * rng.normal(0, 1, n))
    a = rng.choice(n, size=3 * m, p=propensity / propensity.sum())
    order = np.argsort(market.log_scale)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    width = max(2, n // 20)
    near = order[np.clip(rank[a] + rng.integers(-width, width + 1, 3 * m), 0, n - 1)]
    # the earlier recommender: one of the heuristic's top 20 of the 50 nearest candidates
    uniq = np.unique(a)
    cand, _ = candidates.exact_candidates(market, uniq, 50)
    valid = cand >= 0
    qq = np.repeat(uniq, 50)[valid.ravel()]
    s = np.full(cand.shape, -np.inf)
    s[valid] = ranker.score_pairs(market, qq, cand.ravel()[valid.ravel()], ranker.HEURISTIC)[0]
    top = np.take_along_axis(cand, np.argsort(-s, axis=1)[:, :20], axis=1)
    pos = np.searchsorted(uniq, a)
    picked = top[pos, rng.integers(0, 20, 3 * m)]
    choice = rng.choice(3, size=3 * m, p=np.array(t.mix) / sum(t.mix))
    b = np.where(choice == 0, near, np.where(choice == 1, picked, rng.integers(0, n, 3 * m)))
    ok = (b >= 0) & (a != b) & ~market.compete[market.cat[a], market.cat[np.maximum(b, 0)]]
    a, b, choice = a[ok], b[ok], choice[ok]
    codes = a * n + b  # one outcome per ordered pair
    _, first = np.unique(codes, return_index=True)
    first = np.sort(first)[:m]
    a, b, choice = a[first], b[first], choice[first]
    slot = np.where(choice == 1, SlotType.RANKED.value, np.where(choice == 2, SlotType.EXPLORE.value, ""))
    u = fm.utility(a, b)
    p = 1 / (1 + np.exp(-t.beta * (u - np.median(u)))) if not t.pure_noise else np.full(len(a), 0.4)
    y = rng.random(len(a)) < p
    flip = rng.random(len(a)) < t.label_noise
    y = np.where(flip, ~y, y).astype(np.int64)
    completed = (y == 1) & (rng.random(len(a)) < 0.7)
    small = np.minimum(market.scale[a], market.scale[b])
    members = np.where(completed[:, None], np.rint(small[:, None] * 0.02 * rng.uniform(0.5, 1.5, (len(a), 2))), 0)
    fm.a, fm.b, fm.y, fm.completed, fm.members, fm.slot = a, b, y, completed, members, slot


@dataclass
class MemberResult:
    index: int
    brands: int
    outcomes: int
    description: str
    gate: dict
    ndcg_heuristic: float
    ndcg_trained: float
    ndcg_served: float
    diff: tuple[float, float, float]  # trained − heuristic: mean, CI low, CI high
    served_diff: tuple[float, float, float]
    seconds: float


def evaluate_member(
    n: int, index: int, *, seed: int = 0, queries: int = 400, pool: int = 100, top: int = 10
) -> MemberResult:
    """Train on member ``index``'s history (through the gate), then NDCG@10 against its truth."""
    started = time.perf_counter()
    fm = family_market(n, index, seed=seed)
    market = fm.market
    trained, metrics = training.fit(market, fm.a, fm.b, fm.y, fm.completed, members=fm.members, slot=fm.slot, seed=seed)
    served = trained if metrics["gate"] == training.GATE_PASSED else ranker.HEURISTIC
    rng = np.random.default_rng([seed, index, 99])
    q = rng.choice(market.n, size=min(queries, market.n), replace=False)
    cand, _ = candidates.exact_candidates(market, q, pool)
    valid = cand >= 0
    rows = np.repeat(q, pool)[valid.ravel()]
    cols = cand.ravel()[valid.ravel()]
    utility = np.zeros(cand.shape)
    utility[valid] = fm.utility(rows, cols)
    gains = np.where(valid, np.maximum(0.0, utility - np.median(utility[valid])), 0.0)

    def per_query(artefact) -> np.ndarray:
        s = np.full(cand.shape, -np.inf)
        s[valid] = ranker.score_pairs(market, rows, cols, artefact)[0]
        return np.array([ndcg_at_k(s[i : i + 1], gains[i : i + 1], valid[i : i + 1], top) for i in range(len(q))])

    heur = per_query(ranker.HEURISTIC)
    tr = per_query(trained)
    sv = tr if served is trained else heur
    return MemberResult(
        index=index,
        brands=market.n,
        outcomes=len(fm.a),
        description=fm.truth.describe(),
        gate=metrics,
        ndcg_heuristic=float(heur.mean()),
        ndcg_trained=float(tr.mean()),
        ndcg_served=float(sv.mean()),
        diff=training.paired_bootstrap(tr - heur, seed=seed),
        served_diff=training.paired_bootstrap(sv - heur, seed=seed),
        seconds=time.perf_counter() - started,
    )


def dimension_market(n: int, dim: str, *, seed: int = 0, n_outcomes: int | None = None) -> FamilyMarket:
    """A market where one dimension carries all the signal (linear), no label noise, random
    partners — for tests: a learner must find it."""
    rng = np.random.default_rng([seed, 7, 12])
    fm = family_market(n, 1, seed=seed, n_outcomes=0)
    t = fm.truth
    t.pure_noise = False
    t.weights = {d: (3.0 if d == dim else 0.0) for d in DIMENSIONS}
    t.shapes = {d: "linear" for d in DIMENSIONS}
    t.bonus = np.zeros_like(t.bonus)
    t.prefer_larger, t.label_noise, t.beta, t.popularity, t.mix = 0.0, 0.0, 6.0, 0.0, (0.0, 0.5, 0.5)
    _history(fm, rng, n_outcomes if n_outcomes is not None else 2 * n)
    return fm


def noise_market(n: int, *, seed: int = 0, n_outcomes: int | None = None) -> FamilyMarket:
    """Member 0: outcomes independent of every feature."""
    return family_market(n, 0, seed=seed, n_outcomes=n_outcomes)
