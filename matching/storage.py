"""Storing recommendations: a refresh's results as Recommendation rows, and their writes.

``row_columns`` is the one encoding of a Recommendation row, used by both writers:

* ``write_brand`` replaces one brand's rows in one transaction;
* ``write_all`` deletes and re-inserts every row in one transaction — one ``COPY … FROM
  STDIN`` on PostgreSQL through ``huiliu.bulk``, ``bulk_create`` batches elsewhere — so
  readers see the old lists until the new ones are complete;
* ``remove_brand`` takes a brand off its own and everyone else's lists.

All three take ``WRITERS_LOCK`` first. Computing the rows is ``matching.refresh``'s job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator

import numpy as np
from django.db import connection, transaction

from huiliu import bulk
from huiliu.db import advisory_xact_lock
from matching import explain
from matching.features import Market
from matching.models import Recommendation, SlotType

# The columns ``row_columns`` returns, in order (Recommendation attribute names).
COLUMNS = (
    "brand_id",
    "partner_id",
    "rank",
    "score",
    "scale_fit",
    "positioning_fit",
    "audience_fit",
    "category_fit",
    "learned_score",
    "reasons_zh",
    "reasons_en",
    "model_version",
    "slot",
    "created_at",
)
# The reason an explored partner leads with (matching.refresh.explore_slots).
EXPLORE_REASON = (
    "新发现：与它置换过的品牌还不多，调性与规模都在合理范围，值得一试",
    "New: few brands have swapped with it yet, and it fits within a reasonable range — worth a try",
)

# One brand's refresh and the full refresh both delete-then-insert rows; run concurrently, the
# second writer would insert pairs the first just re-inserted (unique violation) and lose its
# work. Every writer takes this lock first, so they queue.
WRITERS_LOCK = "matching.recommendation.writers"


# --- Rows --------------------------------------------------------------------------------------
def _json_str(s: str) -> str:
    # Most sentences need no escaping; json.dumps only for the ones that do.
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return json.dumps(s, ensure_ascii=False)


def _json_lists(ids: np.ndarray, table: list[str]) -> np.ndarray:
    """Per row, the JSON array of ``table[ids[row]]`` (ids −1 = none, always trailing)."""
    quoted = np.array([_json_str(x) for x in table] + [""], dtype=object)
    following = np.array([", " + x for x in quoted[:-1].tolist()] + [""], dtype=object)
    idx = np.where(ids >= 0, ids, len(table))
    out = "[" + quoted[idx[:, 0]]
    for k in range(1, ids.shape[1]):
        out = out + following[idx[:, k]]
    return out + "]"


def _floats(x: np.ndarray) -> list:
    return np.round(np.asarray(x, np.float64), 4).tolist()


def row_columns(
    market: Market,
    rows: np.ndarray,
    partners: np.ndarray,
    scores: np.ndarray,
    comps: np.ndarray,
    learned: np.ndarray,
    artefact,
    version: int,
    now,
    *,
    explore: np.ndarray | None = None,
) -> list[list]:
    """The Recommendation rows of a refresh (its top-k arrays for ``rows``, as
    ``matching.refresh.compute`` returns them) as columns in ``COLUMNS`` order, reasons
    included: the reason lists are JSON text, built column-wise. ``explore`` [q, k]: the
    exploration slots (``slot`` = explore, led by ``EXPLORE_REASON``)."""
    q_idx, r_idx, dst, ids, zh, en, sc, cp, lr = explain.explain_pairs(
        market, rows, partners, scores, comps, learned, artefact
    )
    n = len(dst)
    slot = np.full(n, SlotType.RANKED.value, dtype=object)
    if explore is not None and explore.any():
        new = explore[q_idx, r_idx]
        if new.any():
            zh, en = [*zh, EXPLORE_REASON[0]], [*en, EXPLORE_REASON[1]]
            ids = ids.copy()
            ids[new] = np.column_stack([np.full(int(new.sum()), len(zh) - 1), ids[new][:, :-1]])
            slot[new] = SlotType.EXPLORE.value
    learned_col = [None] * n if np.isnan(lr).all() else [None if v != v else v for v in _floats(lr)]
    return [
        market.ids[np.asarray(rows)[q_idx]].tolist(),
        market.ids[dst].tolist(),
        (r_idx + 1).tolist(),
        _floats(sc),
        _floats(cp[:, 0]),
        _floats(cp[:, 1]),
        _floats(cp[:, 2]),
        _floats(cp[:, 3]),
        learned_col,
        _json_lists(ids, zh).tolist(),
        _json_lists(ids, en).tolist(),
        [version] * n,
        slot.tolist(),
        [now] * n,
    ]


# --- Writes ------------------------------------------------------------------------------------
def write_brand(brand_id: int, columns: list[list]) -> int:
    """Replace ``brand_id``'s stored recommendations by ``columns`` (``row_columns`` of that
    brand alone). Returns the rows written."""
    with transaction.atomic():
        advisory_xact_lock(WRITERS_LOCK)
        Recommendation.objects.filter(brand_id=brand_id).delete()
        return bulk.copy_columns(Recommendation, COLUMNS, [columns])


def remove_brand(brand_id: int) -> None:
    """Delete a brand's own recommendations and every recommendation of it to others."""
    with transaction.atomic():
        advisory_xact_lock(WRITERS_LOCK)
        Recommendation.objects.filter(brand_id=brand_id).delete()
        Recommendation.objects.filter(partner_id=brand_id).delete()


def write_all(chunks: Iterable[list[list]]) -> tuple[int, float]:
    """Replace every stored recommendation with the rows of ``chunks`` (an iterable of
    ``row_columns`` results, produced lazily) in one transaction: readers see the old lists
    until the commit. Streaming the chunks into one COPY keeps memory flat. Returns (rows
    written, seconds spent writing — producing the chunks not counted)."""
    producing = 0.0

    def timed() -> Iterator[list[list]]:
        nonlocal producing
        it = iter(chunks)
        while True:
            t = time.perf_counter()
            cols = next(it, None)
            producing += time.perf_counter() - t
            if cols is None:
                return
            yield cols

    with transaction.atomic():
        advisory_xact_lock(WRITERS_LOCK)
        started = time.perf_counter()
        with connection.cursor() as cursor:  # every row: no per-object deletion
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(Recommendation._meta.db_table)}")
        written = bulk.copy_columns(Recommendation, COLUMNS, timed())
        seconds = time.perf_counter() - started - producing
    return written, seconds
