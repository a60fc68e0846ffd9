"""Offline evaluation on a generated market with known ground truth (``matching.generator``).

For a sample of query brands, every ranker orders the same pool — the query's 100 nearest
allowed partners from the candidate step — and NDCG@10 is computed against the true
utility (gain = utility above the pool-wide median, 0 below). Rankers: random, the
heuristic (cold start: no outcomes known) and the trained model (fitted on the generated
outcome history). The full pipeline (candidates → ranker → top-10 for every brand) is then
run with the trained model and every recommended pair is checked against the generator's
own competition map (independently of the Market's matrix).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from matching import candidates, generator, ranker, training
from matching.features import Market, build_market


def ndcg_at_k(scores: np.ndarray, gains: np.ndarray, valid: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over rows; ``scores``/``gains`` [q, pool], invalid entries ignored."""
    s = np.where(valid, scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    g = np.where(valid, gains, 0.0)
    discounts = 1 / np.log2(np.arange(2, k + 2))
    dcg = (np.take_along_axis(g, order, axis=1) * discounts).sum(axis=1)
    ideal = (-np.sort(-g, axis=1)[:, :k] * discounts).sum(axis=1)
    ok = ideal > 0
    return float((dcg[ok] / ideal[ok]).mean()) if ok.any() else 0.0


@dataclass
class EvaluationResult:
    brands: int
    outcomes: int
    queries: int
    ndcg_random: float
    ndcg_heuristic: float
    ndcg_trained: float
    competitor_pairs: int
    recommended_pairs: int
    metrics: dict
    seconds: float


def evaluate(
    n: int = 3000,
    *,
    seed: int = 7,
    queries: int = 400,
    pool: int = 100,
    top: int = 10,
    progress=lambda message: None,
) -> EvaluationResult:
    started = time.perf_counter()
    progress(f"generating a market of {n} brands")
    gm = generator.generate_market(n, seed=seed)
    market: Market = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing, seed=seed)
    progress(f"training on {len(gm.outcome_a)} generated outcomes")
    trained, metrics = training.fit(market, gm.outcome_a, gm.outcome_b, gm.outcome_y, gm.outcome_completed, seed=seed)

    rng = np.random.default_rng(seed + 1)
    q = rng.choice(market.n, size=min(queries, market.n), replace=False)
    cand, _ = candidates.exact_candidates(market, q, pool)
    valid = cand >= 0
    rows = np.repeat(q, pool)[valid.ravel()]
    cols = cand.ravel()[valid.ravel()]
    utility = np.zeros(cand.shape)
    utility[valid] = gm.utility(rows, cols)
    gains = np.maximum(0.0, utility - np.median(utility[valid]))

    def ranker_scores(artefact) -> np.ndarray:
        out = np.zeros(cand.shape)
        out[valid] = ranker.score_pairs(market, rows, cols, artefact)[0]
        return out

    progress("ranking")
    ndcg_random = ndcg_at_k(rng.random(cand.shape), gains, valid, top)
    ndcg_heuristic = ndcg_at_k(ranker_scores(ranker.HEURISTIC), gains, valid, top)
    ndcg_trained = ndcg_at_k(ranker_scores(trained), gains, valid, top)

    progress("full refresh with the trained model, checking every pair for competition")
    cand_all, _ = candidates.ivf_candidates(market, 30, seed=seed)
    partners, _, _, _ = ranker.rank_candidates(market, np.arange(market.n), cand_all, trained, top)
    ok = partners >= 0
    a = np.repeat(np.arange(market.n), top)[ok.ravel()]
    b = partners.ravel()[ok.ravel()]
    competitor_pairs = int(gm.competes(a, b).sum() + (a == b).sum())
    return EvaluationResult(
        brands=market.n,
        outcomes=len(gm.outcome_a),
        queries=len(q),
        ndcg_random=ndcg_random,
        ndcg_heuristic=ndcg_heuristic,
        ndcg_trained=ndcg_trained,
        competitor_pairs=competitor_pairs,
        recommended_pairs=len(a),
        metrics=metrics,
        seconds=time.perf_counter() - started,
    )
