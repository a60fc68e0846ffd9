"""A believable swap history for the demo market (``manage.py load_demo``).

Without outcomes the matcher serves its cold-start heuristic, the admin page shows no
trained model and no recommendation can say "咖啡 × 烘焙，历史置换完成率 64%". The demo
therefore gets a deterministic history among its approved brands: partners mostly of
similar scale (as marketers pick them), success driven by scale fit, tier fit and a hidden
category affinity (the generator's complementary and clashing pairs), so training has
something real to learn. Competitors are never paired.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from matching import services
from matching.generator import CLASHING, COMPLEMENTARY
from matching.models import Outcome
from partners import selectors as partner_selectors
from partners.models import Brand, BrandStatus

DEMO_OUTCOMES = 600


@dataclass
class DemoHistory:
    outcomes: int
    trained_version: int | None
    refreshed_rows: int


def demo_outcome_records(*, count: int = DEMO_OUTCOMES, seed: int = 2026) -> list[dict]:
    """Outcome records in the ``import_outcomes`` format among approved brands."""
    rows = list(
        Brand.objects.filter(status=BrandStatus.APPROVED)
        .order_by("id")
        .values_list("id", "slug", "category_id", "category__code", "price_tier", "active_audience")
    )
    if len(rows) < 3:
        return []
    rng = np.random.default_rng(seed)
    competing = partner_selectors.competing_category_map()
    blocked = partner_selectors.blocked_pairs()
    affinity: dict[tuple[str, str], float] = {}
    for pairs, value in ((COMPLEMENTARY, 1.2), (CLASHING, -1.2)):
        for x, y in pairs:
            affinity[(x, y)] = affinity[(y, x)] = value
    n = len(rows)
    log_scale = np.array([math.log10(max(r[5], 1)) for r in rows])
    order = np.argsort(log_scale)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    width = max(2, n // 10)

    records: list[dict] = []
    seen: set[tuple[int, int]] = set()
    attempts = 0
    while len(records) < count and attempts < count * 20:
        attempts += 1
        i = int(rng.integers(0, n))
        j = (
            int(order[min(max(rank[i] + int(rng.integers(-width, width + 1)), 0), n - 1)])
            if rng.random() < 0.7
            else int(rng.integers(0, n))
        )
        a, b = rows[i], rows[j]
        if i == j or (i, j) in seen or b[2] in competing.get(a[2], {a[2]}) or (a[0], b[0]) in blocked:
            continue
        seen.add((i, j))
        utility = (
            max(0.0, 1 - abs(log_scale[i] - log_scale[j]) / 2)
            + 0.4 * (1 - abs(a[4] - b[4]) / 4)
            + affinity.get((a[3], b[3]), float(rng.normal(0, 0.15)))
        )
        accepted = rng.random() < 1 / (1 + math.exp(-3 * (utility - 1.0)))
        record = {"a": a[1], "b": b[1], "outcome": "declined"}
        if accepted and rng.random() < 0.75:
            smaller = min(a[5], b[5])
            record.update(
                outcome="completed",
                a_new_members=int(smaller * 0.02 * rng.uniform(0.5, 1.5)),
                b_new_members=int(smaller * 0.02 * rng.uniform(0.5, 1.5)),
            )
        elif accepted:
            record["outcome"] = "accepted"
        records.append(record)
    return records


def demo_history_load(*, count: int = DEMO_OUTCOMES) -> DemoHistory:
    """Import the demo history (once: skipped if any outcome exists), train and activate a
    model from it, and refresh every brand's recommendations with that model."""
    if Outcome.objects.exists():
        return DemoHistory(outcomes=0, trained_version=None, refreshed_rows=0)
    records = demo_outcome_records(count=count)
    if not records:
        return DemoHistory(outcomes=0, trained_version=None, refreshed_rows=0)
    imported = services.outcomes_import(source=[json.dumps(r, ensure_ascii=False) for r in records])
    # Not forced: like any automatic training, a model that scores below the heuristic on its
    # hold-out set is stored but not activated, and the matcher page says which one serves.
    trained = services.matcher_train()
    stats = services.recommendations_refresh_all()
    return DemoHistory(outcomes=imported.created, trained_version=trained.model.version, refreshed_rows=stats.rows)
