"""``manage.py train_matcher [--force]`` — train the ranker from the outcomes in the database.

Prints the ranking gate's numbers (NDCG@10 / recall@10 on held-out brands, new model against
the serving ranker and against the heuristic, the bootstrap intervals of the differences, the
same on the explored outcomes); activates the new model only when the gate passes
(``--force`` activates it anyway), and says why.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from matching.services import gate_params, matcher_train


class Command(BaseCommand):
    help = "Train the matcher from outcomes; activate it if it ranks held-out brands better beyond the noise."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="activate the new model even if it scores lower")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, force: bool, seed: int, **options):
        try:
            result = matcher_train(force=force, seed=seed)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        m = result.metrics

        def fmt(v):
            return "—" if v is None else (f"{v:.4f}" if isinstance(v, float) else f"{v:,}")

        self.stdout.write(
            f"model v{result.model.version}: trained on {fmt(m['outcomes'])} outcomes "
            f"({fmt(m['positives'])} successes); gate on {fmt(m.get('eval_queries'))} held-out brands "
            f"({m.get('folds')} brand folds)"
        )
        against = "active model" if m.get("baseline") == "model" else "heuristic"
        self.stdout.write(f"  NDCG@10   new {fmt(m.get('ndcg'))}   {against} {fmt(m.get('ndcg_baseline'))}")
        self.stdout.write(f"  recall@10 new {fmt(m.get('recall'))}   {against} {fmt(m.get('recall_baseline'))}")
        self.stdout.write(
            f"  difference {m.get('ndcg_diff', 0):+.4f}, 95% bootstrap interval "
            f"[{m.get('ndcg_diff_low', 0):+.4f}, {m.get('ndcg_diff_high', 0):+.4f}]"
        )
        if m.get("baseline") == "model" and m.get("ndcg_diff_heuristic") is not None:
            self.stdout.write(
                f"  against the heuristic {fmt(m.get('ndcg_heuristic'))}: difference {m['ndcg_diff_heuristic']:+.4f}, "
                f"95% interval [{m['ndcg_diff_heuristic_low']:+.4f}, {m['ndcg_diff_heuristic_high']:+.4f}]"
            )
        ex = m.get("explore") or {}
        if ex.get("ndcg_diff_heuristic") is not None:
            self.stdout.write(
                f"  explored outcomes ({fmt(ex.get('outcomes'))}, {fmt(ex.get('queries'))} held-out brands): "
                f"new {fmt(ex.get('ndcg'))} vs heuristic {fmt(ex.get('ndcg_heuristic'))}, 95% interval "
                f"[{ex['ndcg_diff_heuristic_low']:+.4f}, {ex['ndcg_diff_heuristic_high']:+.4f}]"
            )
        self.stdout.write(f"  blend weight {fmt(m.get('blend_weight'))}, NDCG@10 by blend {m.get('ndcg_by_blend')}")
        if m.get("refused"):
            self.stdout.write(f"  refused: {m['refused']}")
        for key in ("auc", "auc_heuristic"):
            if m.get(key) is not None:
                self.stdout.write(f"  {key:<14} {fmt(m[key])} (tried pairs of the held-out brands)")
        # Why the model was (not) activated, in words (TrainingMessage), never a bare flag.
        label = str(result.message.label)
        self.stdout.write(label % gate_params(m) if "%(" in label else label)
