"""``manage.py evaluate_matcher`` — NDCG@10 of random, heuristic and trained rankers on a
generated market with known ground truth, and the number of competitor pairs recommended.

Runs in memory (the database is not touched); see matching/evaluation.py and docs/MATCHING.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from matching.evaluation import evaluate


class Command(BaseCommand):
    help = "Evaluate the matcher on a generated market with ground truth."

    def add_arguments(self, parser):
        parser.add_argument("--brands", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--queries", type=int, default=400)

    def handle(self, *args, brands: int, seed: int, queries: int, **options):
        r = evaluate(brands, seed=seed, queries=queries, progress=lambda m: self.stderr.write(m))
        self.stdout.write(
            f"generated market: {r.brands:,} brands, {r.outcomes:,} past outcomes, {r.queries} query brands"
        )
        self.stdout.write(f"NDCG@10 random     {r.ndcg_random:.4f}")
        self.stdout.write(f"NDCG@10 heuristic  {r.ndcg_heuristic:.4f}")
        self.stdout.write(f"NDCG@10 trained    {r.ndcg_trained:.4f}")
        self.stdout.write(f"competitor pairs recommended: {r.competitor_pairs} of {r.recommended_pairs:,}")
        ok = r.ndcg_trained > r.ndcg_heuristic > r.ndcg_random and r.competitor_pairs == 0
        self.stdout.write(
            ("OK" if ok else "FAIL") + f": trained > heuristic > random, 0 competitors ({r.seconds:.1f}s)"
        )
