"""``manage.py evaluate_matcher`` — NDCG@10 of random, heuristic and trained rankers on a
generated market with known ground truth, and the number of competitor pairs recommended.

``--family`` evaluates the family of generated markets with varied latent truth
(``matching.family``): per market, the gate's verdict on held-out brands and, against the
market's own truth, NDCG@10 of the heuristic, of the trained model and of what would serve
(the trained model if the gate passed it, else the heuristic), with paired bootstrap 95 %
intervals of the differences. The gate's numbers on the explored outcomes alone (the
history's random partners, recorded as explore slots) are printed beside its verdict.

Runs in memory (the database is not touched); see matching/evaluation.py and docs/MATCHING.md.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from matching.evaluation import evaluate


class Command(BaseCommand):
    help = "Evaluate the matcher on a generated market (or a family of them) with ground truth."

    def add_arguments(self, parser):
        parser.add_argument("--brands", type=int, default=None, help="market size (default 3000; family 1500)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--queries", type=int, default=400)
        parser.add_argument("--family", action="store_true", help="evaluate the family of generated markets")
        parser.add_argument("--markets", type=int, default=10, help="family members (member 0 is pure noise)")

    def handle(self, *args, brands: int | None, seed: int, queries: int, family: bool, markets: int, **options):
        if family:
            return self.family(brands or 1500, seed=seed, queries=queries, markets=markets)
        r = evaluate(brands or 3000, seed=seed, queries=queries, progress=lambda m: self.stderr.write(m))
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

    def family(self, n: int, *, seed: int, queries: int, markets: int) -> None:
        from matching import training
        from matching.family import evaluate_member

        def ci(t):
            return f"{t[0]:+.3f} [{t[1]:+.3f}, {t[2]:+.3f}]"

        self.stdout.write(f"family of {markets} generated markets, {n:,} brands each, seed {seed}")
        self.stdout.write(
            "| # | latent truth (top weights, * non-linear) | outcomes | gate: held-out NDCG@10 new vs heuristic "
            "[Δ 95% CI] | explored: Δ vs heuristic [95% CI] (brands) | gate | truth NDCG@10 heuristic | trained "
            "| Δ trained [95% CI] | served | Δ served |"
        )
        self.stdout.write("|---|---|---|---|---|---|---|---|---|---|---|")
        served, worse, helped = [], 0, 0
        for index in range(markets):
            r = evaluate_member(n, index, seed=seed, queries=queries)
            g = r.gate
            truth = r.ndcg_heuristic > 0
            gate_text = (
                f"{g['ndcg']:.3f} vs {g['ndcg_baseline']:.3f} [{g['ndcg_diff_low']:+.3f}, {g['ndcg_diff_high']:+.3f}]"
                if g.get("ndcg") is not None
                else "—"
            )
            ex = g.get("explore") or {}
            explored = (
                f"{ex['ndcg_diff_heuristic']:+.3f} [{ex['ndcg_diff_heuristic_low']:+.3f}, "
                f"{ex['ndcg_diff_heuristic_high']:+.3f}] ({ex['queries']:,})"
                if ex.get("ndcg_diff_heuristic") is not None
                else "—"
            )
            decision = {"passed": "serves", "not_better": "refused", "too_few_queries": "too few"}[g["gate"]]
            if g.get("refused") == training.REFUSED_BELOW_HEURISTIC_EXPLORED:
                decision = "refused (explored)"
            cells = (
                [
                    f"{r.ndcg_heuristic:.3f}",
                    f"{r.ndcg_trained:.3f}",
                    ci(r.diff),
                    f"{r.ndcg_served:.3f}",
                    ci(r.served_diff),
                ]
                if truth
                else ["—", "—", "— (no truth: pure noise)", "—", "—"]
            )
            self.stdout.write(
                f"| {index} | {r.description} | {r.outcomes:,} | {gate_text} (w={g['blend_weight']}) | {explored} | {decision} | "
                + " | ".join(cells)
                + " |"
            )
            self.stderr.write(f"market {index} done in {r.seconds:.1f}s")
            if truth:
                served.append(r.served_diff[0])
                worse += r.served_diff[2] < 0  # served significantly below the heuristic
                helped += r.served_diff[1] > 0
        if served:
            self.stdout.write(
                f"mean Δ served vs heuristic over {len(served)} markets with truth: {sum(served) / len(served):+.4f}; "
                f"clearly better on {helped}, clearly worse on {worse}"
            )
            self.stdout.write(("OK" if worse == 0 else "FAIL") + ": serving never clearly worse than the heuristic")
