"""Candidate generation over the market's embedding matrix, vectorised with NumPy.

Two searches return, per query brand, the ``k`` nearest allowed partners by squared
Euclidean distance on ``Market.emb``:

* ``exact_candidates`` — brute force: blocked matrix products of query rows × all rows.
  Used for one brand (a single refresh: 100,000 × 77 floats, a few ms) and as the baseline.
* ``ivf_candidates`` — an inverted-file index: k-means partitions the brands into ~√N lists;
  the queries of one list are searched together against the members of the ``nprobe``
  lists nearest to it (one matrix product per list). Recall@k against exact search is
  measured by ``benchmarks/matching_full_refresh.py``.

Both apply the hard constraints as masks: never itself, never a competing category (the
leaf × leaf matrix from ``partners.selectors.competing_category_map``), never an excluded
pair (blocks either way, dismissals, open swaps — ``Market.excluded``). The market holds
only approved brands, so unapproved and suspended brands are never candidates.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import MiniBatchKMeans

from matching.features import Market

NEG = np.float32(-np.inf)


def _mask_and_select(
    market: Market, q: np.ndarray, cand: np.ndarray, sims: np.ndarray, k: int, self_cols: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the hard constraints to a [len(q), len(cand)] similarity block; top-k per row.

    ``self_cols``: the column of each query itself in ``cand`` (−1: absent), when the caller
    knows it; otherwise it is found by comparison."""
    sims[market.compete[np.ix_(market.cat[q], market.cat[cand])]] = NEG
    if self_cols is None:
        sims[q[:, None] == cand[None, :]] = NEG
    else:
        present = self_cols >= 0
        sims[np.flatnonzero(present), self_cols[present]] = NEG
    width = sims.shape[1]
    extra = min(width, k + 16)  # head-room for excluded pairs, dropped below
    if extra < width:
        top = np.argpartition(sims, width - extra, axis=1)[:, width - extra :]
    else:
        top = np.broadcast_to(np.arange(width), (len(q), width))
    top_sims = np.take_along_axis(sims, top, axis=1)
    top_rows = cand[top]
    if len(market.excluded):
        codes = market.pair_codes(np.repeat(q, top.shape[1]), top_rows.ravel()).reshape(top.shape)
        top_sims[np.isin(codes, market.excluded)] = NEG
    order = np.argsort(-top_sims, axis=1, kind="stable")[:, :k]
    out_rows = np.take_along_axis(top_rows, order, axis=1)
    out_sims = np.take_along_axis(top_sims, order, axis=1)
    if out_rows.shape[1] < k:  # tiny markets
        pad = k - out_rows.shape[1]
        out_rows = np.pad(out_rows, ((0, 0), (0, pad)), constant_values=-1)
        out_sims = np.pad(out_sims, ((0, 0), (0, pad)), constant_values=NEG)
    out_rows[~np.isfinite(out_sims)] = -1
    return out_rows, out_sims


def _similarity(market: Market, q: np.ndarray, cand: np.ndarray) -> np.ndarray:
    # −‖q − x‖² up to the per-row constant ‖q‖²: 2 q·x − ‖x‖² (in place, float32)
    sims = market.emb[q] @ market.emb[cand].T
    sims *= 2.0
    sims -= market.emb_sq[cand][None, :]
    return sims


def exact_candidates(market: Market, rows: np.ndarray, k: int, *, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top-k allowed partners for ``rows``: ([len(rows), k] rows (−1 = none), similarities)."""
    rows = np.asarray(rows, np.int64)
    allrows = np.arange(market.n)
    out_r = np.full((len(rows), k), -1, np.int64)
    out_s = np.full((len(rows), k), NEG, np.float32)
    for start in range(0, len(rows), block):
        q = rows[start : start + block]
        r, s = _mask_and_select(market, q, allrows, _similarity(market, q, allrows), k, self_cols=q)
        out_r[start : start + len(q)], out_s[start : start + len(q)] = r, s
    return out_r, out_s


def ivf_candidates(
    market: Market, k: int, *, n_lists: int | None = None, nprobe: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate top-k for every brand of the market (rows 0..N−1)."""
    n = market.n
    n_lists = n_lists or max(1, int(np.sqrt(n)))
    if n < 2000 or n_lists < 4:
        return exact_candidates(market, np.arange(n), k)
    km = MiniBatchKMeans(
        n_clusters=n_lists,
        batch_size=4096,
        n_init=1,
        max_iter=30,
        random_state=seed,
        max_no_improvement=5,
    ).fit(market.emb[np.random.default_rng(seed).choice(n, size=min(n, 30 * n_lists), replace=False)])
    centroids = km.cluster_centers_.astype(np.float32)
    assign = km.predict(market.emb)
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(n_lists + 1))
    members = [order[bounds[c] : bounds[c + 1]] for c in range(n_lists)]
    c_sq = np.einsum("ij,ij->i", centroids, centroids)
    probe = np.argsort(-(2 * centroids @ centroids.T - c_sq[None, :]), axis=1)[:, :nprobe]

    out_r = np.full((n, k), -1, np.int64)
    out_s = np.full((n, k), NEG, np.float32)
    for c in range(n_lists):
        q = members[c]
        if len(q) == 0:
            continue
        cand = np.concatenate([members[p] for p in probe[c]])
        # the list itself is (almost always) among its probes: its queries' own columns
        offsets = np.cumsum([0] + [len(members[p]) for p in probe[c]])
        where = np.flatnonzero(probe[c] == c)
        self_cols = offsets[where[0]] + np.arange(len(q)) if len(where) else np.full(len(q), -1)
        r, s = _mask_and_select(market, q, cand, _similarity(market, q, cand), k, self_cols=self_cols)
        out_r[q], out_s[q] = r, s
    # a query whose probed lists held too few allowed partners falls back to exact search
    short = np.flatnonzero((out_r < 0).any(axis=1))
    if len(short):
        out_r[short], out_s[short] = exact_candidates(market, short, k)
    return out_r, out_s


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact top-k found by the approximate search (−1 entries ignored)."""
    hits = total = 0
    for a, e in zip(approx, exact, strict=False):
        e = e[e >= 0]
        total += len(e)
        hits += len(np.intersect1d(a[a >= 0], e))
    return hits / total if total else 1.0
