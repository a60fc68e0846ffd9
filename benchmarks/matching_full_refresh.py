"""Full refresh: the production top-k for every brand of a generated 100,000-brand market.

    DEBUG=1 .venv/bin/python benchmarks/matching_full_refresh.py [--brands 100000] [--db]

It runs with the production matcher settings, read from ``huiliu.settings`` as the nightly
refresh reads them (``refresh.top_k``, ``refresh.n_candidates``, ``refresh.explore_every``):
MATCHING_TOP_K recommendations per brand (20), MATCHING_CANDIDATES scored per brand (50) and
1 in MATCHING_EXPLORE_EVERY slots (10) given to an under-explored partner; the first lines
printed say which values it ran with.

In-memory mode (default) — the timed "refresh" covers, on one in-process market:
features (TF-IDF, SVD, matrices) → IVF candidate search (with the trained model serving,
3 × the candidates nearest → ``ranker.prefilter`` → the candidates, ``refresh.candidate_rows``)
→ scoring with the trained model → the ranked candidates → top-k with exploration slots
(``refresh.explore_slots``; exposure = past outcomes per brand, as ``refresh.load_exposure``
counts them) → reasons in zh-Hans and en → the COPY text a refresh streams to PostgreSQL
(built in chunks of 10,000 brands, as the service does; not sent).
The baseline replaces the IVF search by brute-force exact search on the *same* embedding
matrix (blocked matrix products over all 100,000 × 100,000 pairs) — same run, same
scoring — and the script prints both times, their ratio, the recall@10 of the candidate
step against exact search and the overlap of the final top-k lists. Then (not timed), for 200
brands, the recall@10 of the candidate step against exact scoring of every allowed partner
*under the trained model*: the served step next to the nearest alone (before issue 12).

``--db`` mode runs the real service end to end instead: the generated brands are written to
the database (once, bulk), then ``matching.services.recommendations_refresh_all`` is timed
(with the same settings): load from PostgreSQL → features → candidates → scores →
exploration slots → reasons → DELETE + COPY of every row in one transaction (the table is
VACUUMed first, as autovacuum would have done since the previous night's refresh).

Peak RSS is the process's high-water mark (``ru_maxrss``) after the refresh.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiliu.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from huiliu.bulk import copy_text  # noqa: E402
from matching import candidates, generator, ranker, refresh, storage, training  # noqa: E402
from matching.features import build_market  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def production_settings(n_cand: int | None = None) -> tuple[int, int, int]:
    """(top k, candidates per brand, explore every) — the nightly refresh's, from settings."""
    k = refresh.top_k()
    c = n_cand or refresh.n_candidates(k)
    every = refresh.explore_every()
    print(
        f"settings: MATCHING_TOP_K={k}, MATCHING_CANDIDATES={c}, MATCHING_EXPLORE_EVERY={every} "
        f"({'1 in ' + str(every) + ' slots explore' if every and k >= every else 'no exploration slots'})"
    )
    return k, c, every


def in_memory(n: int, seed: int, n_cand: int | None = None) -> None:
    k, c, every = production_settings(n_cand)
    t = time.perf_counter()
    gm = generator.generate_market(n, seed=seed)
    print(f"generated {n:,} brands, {len(gm.outcome_a):,} outcomes in {time.perf_counter() - t:.1f}s (not timed)")
    m0 = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing, seed=seed)
    artefact, metrics = training.fit(
        m0, gm.outcome_a, gm.outcome_b, gm.outcome_y, gm.outcome_completed, members=gm.outcome_members, seed=seed
    )
    print(
        f"trained model (not timed): held-out NDCG@10 {metrics['ndcg']:.3f} vs heuristic "
        f"{metrics['ndcg_baseline']:.3f} [{metrics['ndcg_diff_low']:+.3f}, {metrics['ndcg_diff_high']:+.3f}], "
        f"gate {metrics['gate']}, blend weight {metrics['blend_weight']:.2f}"
    )
    if artefact.model is None:  # the gate chose no learned share: still time a learned model
        artefact.blend_weight = 0.5
        artefact.model, _ = training._train_model(
            m0,
            gm.outcome_a,
            gm.outcome_b,
            gm.outcome_y,
            gm.outcome_completed,
            training.outcome_grades(m0, gm.outcome_a, gm.outcome_b, gm.outcome_y, gm.outcome_completed, None),
            seed,
        )
    del m0
    load = os.getloadavg()

    def run(method: str) -> tuple[dict, np.ndarray, np.ndarray, int]:
        times = {}
        t0 = time.perf_counter()
        market = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing, seed=seed)
        times["features"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        rows = np.arange(market.n)
        # with the trained model serving: the wider pool and the prefilter (issue 12)
        cand = refresh.candidate_rows(market, rows, artefact, c, ivf=method == "ivf", seed=seed)
        times["candidates"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        # as refresh.compute_slots: every candidate ranked, then the top k with 1 in `every`
        # slots for the least-tried plausible partners beyond the ranked ones
        wide = ranker.rank_candidates(market, rows, cand, artefact, max(k, c) if every and k >= every else k)
        exposure = np.bincount(np.concatenate([gm.outcome_a, gm.outcome_b]), minlength=market.n)
        partners, scores, comps, learned, explore = refresh.explore_slots(*wide, k, every, exposure)
        times[f"score+top{k}"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        n_rows = n_bytes = 0
        now = datetime.now(UTC)
        for start in range(0, market.n, 10_000):  # in chunks, as the service streams them to COPY
            sl = slice(start, start + 10_000)
            cols = storage.row_columns(
                market,
                rows[sl],
                partners[sl],
                scores[sl],
                comps[sl],
                learned[sl],
                artefact,
                1,
                now,
                explore=explore[sl],
            )
            n_rows += len(cols[0])
            n_bytes += len(copy_text(cols))
        times["reasons+rows"] = time.perf_counter() - t3
        times["total"] = time.perf_counter() - t0
        n_explore = int(explore.sum())
        return times, cand, partners, wide[0][:, :10], n_rows, n_bytes, n_explore

    fast, cand_ivf, top_ivf, ranked_ivf, n_rows, n_bytes, n_explore = run("ivf")
    rss_fast = rss_mb()
    base, cand_exact, top_exact, _, _, _, _ = run("exact")
    recall_cand = candidates.recall_at_k(cand_ivf[:, :10], cand_exact[:, :10])
    recall_final = candidates.recall_at_k(top_ivf, top_exact)
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores, shared)")
    print(f"{'stage':<14} {'IVF refresh':>12} {'exact baseline':>15}")
    for key in fast:
        print(f"{key:<14} {fast[key]:>11.2f}s {base[key]:>14.2f}s")
    print(
        f"rows produced: {n_rows:,} (top-{k} × {n:,} brands, zh + en reasons; {n_explore:,} exploration slots), "
        f"{n_bytes / 1e6:,.0f} MB of COPY text"
    )
    print(
        f"full refresh {fast['total']:.1f}s vs exact baseline {base['total']:.1f}s → {base['total'] / fast['total']:.1f}× faster; "
        f"candidate step {base['candidates'] / fast['candidates']:.1f}× faster"
    )
    print(
        f"recall@10 of the candidate step vs exact search: {recall_cand:.3f}; final top-{k} overlap: {recall_final:.3f}"
    )
    print(f"peak RSS after IVF refresh: {rss_fast:,.0f} MB; after baseline too: {rss_mb():,.0f} MB")
    # Candidates under the trained model (not timed): for a sample of brands, the top-10 of
    # scoring *every* allowed partner with the trained model, against (a) the candidate set
    # and (b) the final top-10 of the IVF pipeline — with the re-weighted search (served) and
    # with the unweighted embedding (before issue 12's candidate step), same pool size.
    market = build_market(gm.brands, leaves=gm.leaves, competing=gm.competing, seed=seed)
    cand_old, _ = candidates.ivf_candidates(market, c, seed=seed)
    top_old = ranker.rank_candidates(market, np.arange(market.n), cand_old, artefact, 10)[0]
    sample = np.random.default_rng(seed).choice(market.n, size=min(200, market.n), replace=False)
    everyone = np.arange(market.n)
    hits = dict.fromkeys(("cand_new", "cand_old", "top_new", "top_old"), 0)
    for q in sample.tolist():
        score = ranker.score_pairs(market, np.full(market.n, q), everyone, artefact)[0]
        score[market.compete[market.cat[q], market.cat]] = -np.inf
        score[q] = -np.inf
        best = set(np.argpartition(-score, 10)[:10].tolist())
        for key, arr in (("cand_new", cand_ivf), ("cand_old", cand_old), ("top_new", ranked_ivf), ("top_old", top_old)):
            hits[key] += len(best & set(arr[q][arr[q] >= 0].tolist()))
    r = {key: v / (10 * len(sample)) for key, v in hits.items()}
    print(
        f"under the trained model, {len(sample)} brands, exact top-10 over every allowed partner found by "
        f"the {c} candidates: {r['cand_new']:.3f} served ({refresh.TRAINED_POOL_FACTOR * c} nearest → prefilter → {c}) "
        f"vs {r['cand_old']:.3f} before ({c} nearest); recall@10 of the pipeline (candidates → trained ranker): "
        f"{r['top_new']:.3f} vs {r['top_old']:.3f} before"
    )
    ok = fast["total"] <= 60 and rss_fast <= 3072
    print(("OK" if ok else "OVER TARGET") + ": target ≤ 60 s wall, ≤ 3 GB peak RSS")


def in_db(n: int, seed: int) -> None:
    from django.db import transaction

    from matching.market import reset_cache
    from matching.services import recommendations_refresh_all
    from partners.models import Brand, BrandStatus, Category, Channel

    prefix = "bench"
    have = Brand.objects.filter(slug__startswith=f"{prefix}-").count()
    if have < n:
        t = time.perf_counter()
        cats = dict(Category.objects.filter(is_leaf=True).values_list("code", "id"))
        gm = generator.generate_market(n, seed=seed, category_ids=cats, slug_prefix=prefix)
        with transaction.atomic():
            Brand.objects.filter(slug__startswith=f"{prefix}-").delete()
            objs = [
                Brand(
                    slug=b.slug,
                    name=f"测试品牌{b.id}",
                    name_en=f"Bench {b.id}",
                    category_id=b.category_id,
                    price_tier=b.price_tier,
                    tone_tags=b.tone_tags,
                    description=b.description,
                    audience=b.audience,
                    status=BrandStatus.APPROVED,
                    active_audience=int(b.active_audience),
                )
                for b in gm.brands
            ]
            created = Brand.objects.bulk_create(objs, batch_size=5000)
            chans = [
                Channel(brand_id=o.pk, type=t, size=int(v / 0.5), active_rate=0.5)
                for o, b in zip(created, gm.brands, strict=True)
                for t, v in b.channels.items()
            ]
            Channel.objects.bulk_create(chans, batch_size=5000)
        print(f"wrote {n:,} generated brands to the database in {time.perf_counter() - t:.1f}s (not timed)")
    total = Brand.objects.filter(status=BrandStatus.APPROVED).count()
    # The nightly refresh finds the table vacuumed since the previous night; back-to-back
    # benchmark runs would otherwise time the previous run's dead rows too.
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE matching_recommendation")
    reset_cache()
    production_settings()
    load = os.getloadavg()
    t = time.perf_counter()
    stats = recommendations_refresh_all(progress=lambda m: None)  # top: MATCHING_TOP_K
    wall = time.perf_counter() - t
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores, shared)")
    print(f"recommendations_refresh_all over {total:,} approved brands: {wall:.1f}s wall, {stats.rows:,} rows written")
    print("  " + ", ".join(f"{k} {v:.1f}s" for k, v in stats.timings.items()))
    print(f"peak RSS: {rss_mb():,.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--candidates",
        type=int,
        default=None,
        help="candidates per brand (in-memory mode; default MATCHING_CANDIDATES)",
    )
    parser.add_argument("--db", action="store_true", help="end to end through the database (needs DATABASE_URL)")
    args = parser.parse_args()
    if args.db:
        in_db(args.brands, args.seed)
    else:
        in_memory(args.brands, args.seed, args.candidates)
