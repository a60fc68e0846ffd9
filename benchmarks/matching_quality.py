"""Ranking quality on generated markets with known ground truth, beside two baselines.

    DEBUG=1 .venv/bin/python benchmarks/matching_quality.py [--brands 3000 20000 100000]

For each market size: NDCG@10 of the trained ranker against the cold-start heuristic and a
random order (same query brands, same candidate pools — see matching/evaluation.py), and the
number of competitor (or self) pairs among all top-10 recommendations of the full pipeline
(IVF candidates → trained ranker), checked against the generator's own competition map.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiliu.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from matching.evaluation import evaluate  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, nargs="+", default=[3000, 20000, 100000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{'brands':>8} {'outcomes':>9} {'random':>7} {'heuristic':>9} {'trained':>8} {'trained/heur':>12} "
        f"{'competitor pairs':>17} {'seconds':>8}"
    )
    for n in args.brands:
        r = evaluate(n, seed=args.seed)
        ok = r.ndcg_trained > r.ndcg_heuristic > r.ndcg_random and r.competitor_pairs == 0
        print(
            f"{r.brands:>8,} {r.outcomes:>9,} {r.ndcg_random:>7.4f} {r.ndcg_heuristic:>9.4f} {r.ndcg_trained:>8.4f} "
            f"{r.ndcg_trained / r.ndcg_heuristic:>11.2f}× {r.competitor_pairs:>6} of {r.recommended_pairs:>9,} "
            f"{r.seconds:>8.1f}  {'OK' if ok else 'FAIL'}",
            flush=True,
        )
