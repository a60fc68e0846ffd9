"""Computing recommendations: one brand (exact search) or all (IVF search).

Pipeline: market matrix (``matching.market``) → candidates (``matching.candidates``) →
score + top-k (``matching.ranker``) → reasons (``matching.explain``) → rows
(``matching.storage``). The compute functions are pure (arrays in, arrays or ``Match``
lists out) so benchmarks and the evaluation run them on in-memory markets;
``refresh_brand`` and ``refresh_all`` run the pipeline and hand the rows to
``matching.storage``, which owns the writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils import timezone

from matching import candidates, explain, ranker, storage
from matching.features import Market
from matching.market import get_market, load_exclusions
from matching.models import MatcherModel

_artefact_cache: dict = {"key": None, "artefact": ranker.HEURISTIC, "version": 0}


def reset_artefact_cache() -> None:
    """Forget the cached model artefact (the next refresh reloads the active one)."""
    _artefact_cache.update(key=None, artefact=ranker.HEURISTIC, version=0)


@dataclass
class Match:
    partner_id: int
    partner_slug: str
    rank: int
    score: float
    components: dict
    reasons_zh: list[str]
    reasons_en: list[str]


@dataclass
class RefreshStats:
    brands: int = 0
    rows: int = 0
    model_version: int = 0
    timings: dict = field(default_factory=dict)


def top_k() -> int:
    return settings.MATCHING_TOP_K


def n_candidates(k: int) -> int:
    return max(settings.MATCHING_CANDIDATES, 2 * k)


def explore_every() -> int:
    return max(0, settings.MATCHING_EXPLORE_EVERY)


# An explored partner must score at least this share of the last ranked partner it displaces.
EXPLORE_PLAUSIBLE = 0.8


def explore_slots(
    partners: np.ndarray,
    scores: np.ndarray,
    comps: np.ndarray,
    learned: np.ndarray,
    k: int,
    every: int,
    exposure: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The top ``k`` of ranked arrays wider than ``k``, with 1 in ``every`` slots (positions
    every−1, 2·every−1, …) given to the least-tried plausible partners beyond the ranked ones
    (fewest past outcomes ``exposure[row]``, then best score; plausible = scoring at least
    ``EXPLORE_PLAUSIBLE`` × the last ranked one). A row without enough plausible partners keeps
    its plain top ``k``. Returns (partners, scores, comps, learned, explore mask), each [q, k]."""
    q, width = partners.shape
    slots = list(range(every - 1, k, every)) if every > 0 else []
    n_ranked = k - len(slots)
    plain = (partners[:, :k], scores[:, :k], comps[:, :k], learned[:, :k], np.zeros((q, min(k, width)), bool))
    if not slots or n_ranked < 1 or width < n_ranked + len(slots) or q == 0:
        return plain
    extra_p, extra_s = partners[:, n_ranked:], scores[:, n_ranked:]
    ok = (extra_p >= 0) & (extra_s >= EXPLORE_PLAUSIBLE * scores[:, n_ranked - 1 : n_ranked])
    tried = np.where(ok, exposure[np.maximum(extra_p, 0)].astype(np.float64), np.inf)
    pick = np.argsort(tried - 1e-3 * extra_s, axis=1, kind="stable")[:, : len(slots)]
    row_ok = np.take_along_axis(ok, pick, axis=1).all(axis=1) & (partners[:, n_ranked - 1] >= 0)
    ranked_pos = [p for p in range(k) if p not in slots]

    def assemble(arr):
        out = np.array(arr[:, :k], copy=True)
        out[:, ranked_pos] = arr[:, :n_ranked]
        picked = np.take_along_axis(arr[:, n_ranked:], pick.reshape(pick.shape + (1,) * (arr.ndim - 2)), axis=1)
        out[:, slots] = picked
        return np.where(row_ok.reshape((q,) + (1,) * (arr.ndim - 1)), out, arr[:, :k])

    mask = np.zeros((q, k), bool)
    mask[:, slots] = row_ok[:, None]
    return assemble(partners), assemble(scores), assemble(comps), assemble(learned), mask


def load_exposure(market: Market, partner_rows: np.ndarray | None = None) -> np.ndarray:
    """Past outcomes per market row (either side): how much the market has tried each brand.
    With ``partner_rows`` only those rows are counted (one brand's refresh: its candidates,
    two indexed look-ups instead of an aggregate over every outcome)."""
    from django.db.models import Count

    from matching.models import Outcome

    counts = np.zeros(market.n, np.int64)
    ids = None
    if partner_rows is not None:
        rows = np.unique(partner_rows[partner_rows >= 0])
        if len(rows) > 5000:  # most of the market: the aggregate is cheaper
            rows = None
        ids = None if rows is None else market.ids[rows].tolist()
    for field_name in ("brand_a_id", "brand_b_id"):
        qs = Outcome.objects.all() if ids is None else Outcome.objects.filter(**{f"{field_name}__in": ids})
        for brand_id, n in qs.values_list(field_name).annotate(n=Count("id")).values_list(field_name, "n"):
            row = market.index.get(brand_id)
            if row is not None:
                counts[row] += n
    return counts


def active_artefact() -> tuple[ranker.Artefact, int]:
    """The active model's artefact (cached per process by version), or the heuristic."""
    row = MatcherModel.objects.filter(is_active=True).values_list("id", "version").first()
    key = row
    if _artefact_cache["key"] != key:
        if row is None:
            _artefact_cache.update(key=None, artefact=ranker.HEURISTIC, version=0)
        else:
            blob = MatcherModel.objects.filter(pk=row[0]).values_list("artefact", flat=True).first()
            _artefact_cache.update(key=key, artefact=ranker.Artefact.loads(blob), version=row[1])
    return _artefact_cache["artefact"], _artefact_cache["version"]


def _components_dict(comps: np.ndarray, learned: float) -> dict:
    out = {name: round(float(v), 4) for name, v in zip(ranker.COMPONENTS, comps, strict=True)}
    out["learned"] = None if np.isnan(learned) else round(float(learned), 4)
    return out


# Issue 12 — candidates follow the model: while a trained model serves, the embedding search
# returns this many times the candidates and ``ranker.prefilter`` (the served score's
# heuristic part) keeps the best ``c`` for the model. Measured at 20,000 brands, 30 kept:
# recall@10 against exact trained scoring 0.69 (30 nearest) → 0.85 (90 → 30); see
# docs/PERFORMANCE.md "Issue 12".
TRAINED_POOL_FACTOR = 3


def candidate_rows(
    market: Market, rows: np.ndarray, artefact: ranker.Artefact, c: int, *, ivf: bool, seed: int = 0
) -> np.ndarray:
    """[len(rows), c] candidate partner rows (−1 = none) the ranker scores: the ``c``
    nearest in the embedding (heuristic serving: unchanged behaviour), or with a trained
    model the best ``c`` of the ``TRAINED_POOL_FACTOR × c`` nearest (``ranker.prefilter``).
    ``ivf``: the approximate search over every row (``rows`` must be 0..N−1)."""
    wide = c * TRAINED_POOL_FACTOR if ranker.serves_model(artefact) else c
    if ivf:
        cand, _ = candidates.ivf_candidates(market, wide, seed=seed)
    else:
        cand, _ = candidates.exact_candidates(market, rows, wide)
    if wide == c:
        return cand
    return ranker.prefilter(market, rows, cand, artefact, c)


def compute(
    market: Market,
    rows: np.ndarray,
    artefact: ranker.Artefact,
    k: int,
    *,
    method: str = "auto",
    n_cand: int | None = None,
    width: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top-k partner rows for ``rows`` (arrays as ``ranker.rank_candidates``; ``width`` ≥ k
    columns ranked when given, for ``explore_slots``). ``method``: ``exact`` (brute-force
    candidates), ``ivf`` (all rows only), ``auto`` (ivf for a full market, exact otherwise)."""
    c = n_cand or n_candidates(k)
    rows = np.asarray(rows, np.int64)
    full = len(rows) == market.n and method != "exact"
    cand = candidate_rows(market, rows, artefact, c, ivf=full and method in ("auto", "ivf"))
    return ranker.rank_candidates(market, rows, cand, artefact, max(k, min(width or k, cand.shape[1])))


def compute_slots(market: Market, rows: np.ndarray, artefact: ranker.Artefact, k: int, *, method: str = "auto"):
    """``compute`` with exploration slots (``explore_slots``; MATCHING_EXPLORE_EVERY): the five
    arrays ``storage.row_columns`` takes."""
    every = explore_every()
    if every <= 0 or k < every:
        partners, scores, comps, learned = compute(market, rows, artefact, k, method=method)
        return partners, scores, comps, learned, np.zeros(partners.shape, bool)
    wide = compute(market, rows, artefact, k, method=method, width=n_candidates(k))
    return explore_slots(*wide, k, every, load_exposure(market, wide[0]))


def explain_rows(
    market: Market,
    rows: np.ndarray,
    partners: np.ndarray,
    scores: np.ndarray,
    comps: np.ndarray,
    learned: np.ndarray,
    artefact: ranker.Artefact,
) -> list[list[Match]]:
    """Matches with reasons for each query row (the in-memory view of what ``refresh_brand``
    stores, for benchmarks and evaluations)."""
    q_idx, r_idx, dst, ids, zh, en, sc, cp, lr = explain.explain_pairs(
        market, rows, partners, scores, comps, learned, artefact
    )
    out: list[list[Match]] = [[] for _ in range(len(rows))]
    for k, (q, r, j) in enumerate(zip(q_idx.tolist(), r_idx.tolist(), dst.tolist(), strict=True)):
        chosen = [x for x in ids[k].tolist() if x >= 0]
        out[q].append(
            Match(
                partner_id=int(market.ids[j]),
                partner_slug=market.slugs[j],
                rank=r + 1,
                score=round(float(sc[k]), 4),
                components=_components_dict(cp[k], lr[k]),
                reasons_zh=[zh[x] for x in chosen],
                reasons_en=[en[x] for x in chosen],
            )
        )
    return out


# --- Orchestration --------------------------------------------------------------------------------
def refresh_brand(brand_id: int, *, k: int | None = None) -> int:
    """Replace one brand's stored recommendations; a brand that is not (or no longer)
    approved gets none and is removed from everyone's lists. Returns rows written."""
    k = k or top_k()
    market = get_market()
    i = market.index.get(int(brand_id))
    if i is None:
        storage.remove_brand(int(brand_id))
        return 0
    market.set_exclusions(load_exclusions([brand_id]))
    artefact, version = active_artefact()
    rows = np.array([i])
    partners, scores, comps, learned, explore = compute_slots(market, rows, artefact, k, method="exact")
    columns = storage.row_columns(
        market, rows, partners, scores, comps, learned, artefact, version, timezone.now(), explore=explore
    )
    return storage.write_brand(int(brand_id), columns)


def refresh_all(*, k: int | None = None, progress: Callable[[str], None] | None = None) -> RefreshStats:
    """Recompute and store every approved brand's recommendations with the active model."""
    say = progress or (lambda message: None)
    k = k or top_k()
    stats = RefreshStats()
    t0 = time.perf_counter()
    market = get_market()
    market.set_exclusions(load_exclusions())
    artefact, version = active_artefact()
    stats.timings["load"] = time.perf_counter() - t0
    say(f"market: {market.n:,} approved brands, model v{version}")
    rows = np.arange(market.n)
    t1 = time.perf_counter()
    partners, scores, comps, learned, explore = compute_slots(market, rows, artefact, k)
    stats.timings["rank"] = time.perf_counter() - t1
    say(f"ranked top-{k} for {market.n:,} brands in {stats.timings['rank']:.1f}s")
    t2 = time.perf_counter()
    now = timezone.now()
    step = max(10_000, market.n // 10)

    def chunks():
        for start in range(0, market.n, step):
            sl = slice(start, start + step)
            yield storage.row_columns(
                market,
                rows[sl],
                partners[sl],
                scores[sl],
                comps[sl],
                learned[sl],
                artefact,
                version,
                now,
                explore=explore[sl],
            )
            say(f"reasons and rows: {min(start + step, market.n):,}/{market.n:,} brands")

    stats.rows, stats.timings["write"] = storage.write_all(chunks())
    stats.timings["reasons"] = time.perf_counter() - t2 - stats.timings["write"]
    say(f"wrote {stats.rows:,} recommendations (writing {stats.timings['write']:.1f}s)")
    stats.brands, stats.model_version = market.n, version
    return stats
