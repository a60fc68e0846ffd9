"""``manage.py train_matcher [--force]`` — train the ranker from the outcomes in the database.

Activates the new model if its hold-out AUC is no lower than the heuristic's and than the
active model's recorded hold-out AUC (``--force`` activates it anyway) and prints the
metrics and why it was, or was not, activated.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from matching.services import matcher_train


class Command(BaseCommand):
    help = "Train the matcher from outcomes; activate it if no worse than the active model."

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
            f"({fmt(m['positives'])} successes), hold-out {fmt(m['holdout_size'])}"
        )
        for key in ("auc", "auc_learned", "auc_heuristic", "auc_active", "blend_weight"):
            if key in m:
                self.stdout.write(f"  {key:<14} {fmt(m[key])}")
        # Why the model was (not) activated, in words (TrainingMessage), never a bare flag.
        self.stdout.write(str(result.message.label))
