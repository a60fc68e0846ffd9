"""Brand features as one in-memory matrix (the "market"), built from the database or a generator.

Per brand (one row each, approved brands only):
  * scale        — log10(1 + active audience), active audience = Σ channel size × active rate
  * price tier   — 1 (mass) … 5 (luxury)
  * tone / text  — tone tags (zh + en labels) and the description, TF-IDF over character
                   n-grams (``analyzer="char_wb"``), so Chinese needs no word segmenter
  * audience     — gender, age bands, city tiers (shares) and regions (a set); a missing
                   dimension is marked unknown and never crashes or counts against a pair
  * channel mix  — share of the active audience per ChannelType
  * category     — leaf index; ``compete`` is the leaf × leaf competition matrix taken from
                   ``partners.selectors.competing_category_map`` (the one rule)

``emb`` is a dense embedding used only to *retrieve candidates* (nearest neighbours); the
interpretable scoring happens in ``matching.ranker`` on the raw features.

One idea at ~400 lines: the feature matrix and the pure functions that fill it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from huiliu import formatting
from partners.models import ChannelType
from partners.reference import AUDIENCE_DIMENSIONS, CN_REGIONS, TONE_LABELS, tone_label

# Columns of the channel-mix block, in ChannelType's order: a type added there gets a column
# here (the channel-mix overlap and the embedding take any width; no artefact stores it).
CHANNEL_TYPES: tuple[str, ...] = tuple(ChannelType.values)
REGIONS: tuple[str, ...] = tuple(sorted(CN_REGIONS))
DIST_DIMS: tuple[str, ...] = ("gender", "age", "city_tier")
DIST_SLICES: dict[str, slice] = {}
_o = 0
for _d in DIST_DIMS:
    DIST_SLICES[_d] = slice(_o, _o + len(AUDIENCE_DIMENSIONS[_d]))
    _o += len(AUDIENCE_DIMENSIONS[_d])
DIST_WIDTH = _o  # 11
TEXT_DIMS = 16

# Embedding weights: one decade of scale ≈ a whole audience-distribution mismatch.
W_SCALE, W_TIER, W_TEXT, W_DIST, W_REGION, W_CHAN = 2.0, 0.5, 0.8, 1.0, 0.6, 0.5


@dataclass
class BrandInput:
    """The raw profile of one brand, as the feature builder needs it."""

    id: int
    slug: str
    category_id: int
    price_tier: int
    tone_tags: list[str]
    description: str
    audience: dict[str, Any]
    active_audience: float
    channels: dict[str, float]  # channel type → active audience in it


@dataclass
class Market:
    ids: np.ndarray  # int64 brand ids
    slugs: list[str]
    cat: np.ndarray  # int32 leaf index
    leaf_ids: np.ndarray  # leaf index → Category id
    leaf_names: list[tuple[str, str]]  # (zh, en)
    compete: np.ndarray  # bool [L, L]
    scale: np.ndarray  # float64 active audience
    log_scale: np.ndarray  # float32
    tier: np.ndarray  # float32
    tones: list[list[str]]
    dist: np.ndarray  # float32 [N, 11] gender | age | city tier shares
    dist_known: np.ndarray  # bool [N, 3]
    regions: np.ndarray  # float32 [N, 34] 0/1
    chan: np.ndarray  # float32 [N, 14] shares
    emb: np.ndarray  # float32 [N, D] candidate-retrieval embedding
    text_dense: np.ndarray = None  # float32 [N, 16] unit rows: LSA (SVD) of the TF-IDF rows
    tone_bits: np.ndarray = None  # uint64 [N]: tone tags as bits (``tag_bits``), for fast overlap
    region_bits: np.ndarray = None  # uint64 [N]: regions as bits (REGIONS order)
    tag_bits: dict = field(default_factory=dict)
    excluded: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sorted pair codes
    vectorizer: TfidfVectorizer | None = None
    svd: TruncatedSVD | None = None
    dist_mean: np.ndarray | None = None
    stamp: Any = None

    def __post_init__(self) -> None:
        self.index = {int(b): i for i, b in enumerate(self.ids)}
        self.emb_sq = np.einsum("ij,ij->i", self.emb, self.emb)
        if not self.tag_bits:
            self.tag_bits = {tag: bit for bit, tag in enumerate(TONE_LABELS)}
        if self.tone_bits is None or len(self.tone_bits) != len(self.ids):
            self.tone_bits = self.tones_to_bits(self.tones)
        if self.region_bits is None or len(self.region_bits) != len(self.ids):
            self.region_bits = regions_to_bits(self.regions)

    def tones_to_bits(self, tones: Sequence[Sequence[str]]) -> np.ndarray:
        """Tone tags → uint64 bit sets; known tags have fixed bits, others get the next free
        bit while any is left (a 65th distinct tag only loses its shared-tone reason)."""
        out = np.zeros(len(tones), np.uint64)
        for i, tags in enumerate(tones):
            v = 0
            for t in tags:
                bit = self.tag_bits.get(t)
                if bit is None and len(self.tag_bits) < 64:
                    bit = self.tag_bits[t] = len(self.tag_bits)
                if bit is not None:
                    v |= 1 << bit
            out[i] = v
        return out

    def bit_tags(self, bits: int) -> list[str]:
        """The tags of a bit set, in bit order."""
        by_bit = {b: t for t, b in self.tag_bits.items()}
        return [by_bit[b] for b in range(64) if bits >> b & 1 and b in by_bit]

    @property
    def n(self) -> int:
        return len(self.ids)

    def pair_codes(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Direction-sensitive codes of (brand row → partner row) pairs, to test against ``excluded``."""
        return pair_code(self.ids[rows], self.ids[cols])

    def set_exclusions(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Pairs (brand id, partner id) never to recommend: blocks, dismissals, open swaps."""
        pairs = list(pairs)
        if not pairs:
            self.excluded = np.zeros(0, np.int64)
            return
        arr = np.asarray(pairs, dtype=np.int64)
        self.excluded = np.unique(pair_code(arr[:, 0], arr[:, 1]))


def regions_to_bits(regions: np.ndarray) -> np.ndarray:
    weights = np.left_shift(np.uint64(1), np.arange(regions.shape[1], dtype=np.uint64))
    return ((regions > 0).astype(np.uint64) * weights[None, :]).sum(axis=1, dtype=np.uint64)


def pair_code(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.asarray(a, np.int64) << 32) | np.asarray(b, np.int64)


def brand_document(tone_tags: Sequence[str], description: str) -> str:
    """Text the TF-IDF sees: tone tags in both languages + the description."""
    tones = " ".join(f"{tone_label(t, 'zh-hans')} {tone_label(t, 'en')}" for t in tone_tags)
    return f"{tones} {description or ''}"


def _distributions(audience: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dist = np.zeros(DIST_WIDTH, np.float32)
    known = np.zeros(len(DIST_DIMS), bool)
    regions = np.zeros(len(REGIONS), np.float32)
    if not isinstance(audience, dict):
        return dist, known, regions
    for k, dim in enumerate(DIST_DIMS):
        shares = audience.get(dim)
        if not isinstance(shares, dict) or not shares:
            continue
        keys = AUDIENCE_DIMENSIONS[dim]
        vals = np.array([float(shares.get(key) or 0.0) for key in keys], np.float32)
        total = vals.sum()
        if total > 0:
            dist[DIST_SLICES[dim]] = vals / total
            known[k] = True
    for code in audience.get("regions") or ():
        try:
            regions[REGIONS.index(code)] = 1.0
        except ValueError:
            continue
    return dist, known, regions


def row_features(brands: Sequence[BrandInput], leaf_pos: dict[int, int]) -> dict[str, np.ndarray]:
    """The per-brand feature rows (everything but text): ``cat scale log_scale tier dist
    dist_known regions chan`` as in ``Market``, plus ``known_mask`` (``dist_known`` spread
    over the distribution columns). Shared by ``build_market`` and ``replace_rows``, so a
    brand gets the same row whether the market is built or updated."""
    n = len(brands)
    scale = np.array([max(0.0, float(b.active_audience)) for b in brands], np.float64)
    dist = np.zeros((n, DIST_WIDTH), np.float32)
    dist_known = np.zeros((n, len(DIST_DIMS)), bool)
    regions = np.zeros((n, len(REGIONS)), np.float32)
    chan = np.zeros((n, len(CHANNEL_TYPES)), np.float32)
    for i, b in enumerate(brands):
        dist[i], dist_known[i], regions[i] = _distributions(b.audience)
        total = sum(v for v in b.channels.values() if v > 0)
        if total > 0:
            for ctype, v in b.channels.items():
                if ctype in _CHANNEL_POS and v > 0:
                    chan[i, _CHANNEL_POS[ctype]] = v / total
    return {
        "cat": np.array([leaf_pos.get(b.category_id, 0) for b in brands], np.int32),
        "scale": scale,
        "log_scale": np.log10(1.0 + scale).astype(np.float32),
        "tier": np.array([float(b.price_tier or 3) for b in brands], np.float32),
        "dist": dist,
        "dist_known": dist_known,
        "regions": regions,
        "chan": chan,
        "known_mask": np.repeat(dist_known, [len(AUDIENCE_DIMENSIONS[d]) for d in DIST_DIMS], axis=1),
    }


_CHANNEL_POS = {c: i for i, c in enumerate(CHANNEL_TYPES)}


def build_market(
    brands: Sequence[BrandInput],
    *,
    leaves: Sequence[tuple[int, str, str]],
    competing: dict[int, set[int]],
    exclusions: Iterable[tuple[int, int]] = (),
    seed: int = 0,
) -> Market:
    """Feature matrix for ``brands``. ``leaves`` = (category id, name_zh, name_en) of every leaf;
    ``competing`` = ``partners.selectors.competing_category_map()``."""
    n = len(brands)
    leaf_ids = np.array([lid for lid, _, _ in leaves], np.int64)
    leaf_pos = {int(lid): i for i, lid in enumerate(leaf_ids)}
    L = len(leaf_ids)
    compete = np.zeros((L, L), bool)
    for a, others in competing.items():
        if a in leaf_pos:
            for b in others:
                if b in leaf_pos:
                    compete[leaf_pos[a], leaf_pos[b]] = compete[leaf_pos[b], leaf_pos[a]] = True
    np.fill_diagonal(compete, True)

    f = row_features(brands, leaf_pos)
    docs = [brand_document(b.tone_tags, b.description) for b in brands]
    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 3),
        min_df=2 if n >= 50 else 1,
        max_features=30000,
        sublinear_tf=True,
        dtype=np.float32,
    )
    try:
        text = vectorizer.fit_transform(docs).tocsr()
    except ValueError:  # every document empty
        vectorizer = None
        text = sparse.csr_matrix((n, 1), dtype=np.float32)
    svd = None
    text_dense = np.zeros((n, TEXT_DIMS), np.float32)
    dims = min(TEXT_DIMS, n - 1, text.shape[1] - 1)
    if vectorizer is not None and dims >= 2:
        svd = TruncatedSVD(n_components=dims, random_state=seed, n_iter=3)
        with warnings.catch_warnings():  # identical documents → zero variance; harmless
            warnings.simplefilter("ignore", RuntimeWarning)
            text_dense[:, :dims] = _unit_rows(svd.fit_transform(text).astype(np.float32))

    dist_mean = _dist_mean(f["dist"], f["known_mask"])
    market = Market(
        ids=np.array([b.id for b in brands], np.int64),
        slugs=[b.slug for b in brands],
        cat=f["cat"],
        leaf_ids=leaf_ids,
        leaf_names=[(zh, en) for _, zh, en in leaves],
        compete=compete,
        scale=f["scale"],
        log_scale=f["log_scale"],
        tier=f["tier"],
        tones=[list(b.tone_tags or []) for b in brands],
        dist=f["dist"],
        dist_known=f["dist_known"],
        regions=f["regions"],
        chan=f["chan"],
        emb=_embed_rows(f, text_dense, dist_mean),
        text_dense=text_dense,
        vectorizer=vectorizer,
        svd=svd,
        dist_mean=dist_mean,
    )
    market.set_exclusions(exclusions)
    return market


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-9)


def _dist_mean(dist: np.ndarray, known_mask: np.ndarray) -> np.ndarray:
    counts = known_mask.sum(axis=0)
    sums = (dist * known_mask).sum(axis=0)
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    return mean.astype(np.float32)


def _embed_rows(f: dict[str, np.ndarray], text_dense: np.ndarray, dist_mean: np.ndarray) -> np.ndarray:
    return embed(f["log_scale"], f["tier"], text_dense, f["dist"], f["known_mask"], f["regions"], f["chan"], dist_mean)


def embed(log_scale, tier, text_dense, dist, known_mask, regions, chan, dist_mean) -> np.ndarray:
    """Candidate-retrieval embedding; unknown audience dimensions take the market mean (neutral)."""
    filled = np.where(known_mask, dist, dist_mean[None, :])
    region_n = regions / np.maximum(np.sqrt(regions.sum(axis=1, keepdims=True)), 1.0)
    return np.hstack(
        [
            W_SCALE * log_scale[:, None],
            W_TIER * tier[:, None],
            W_TEXT * text_dense,
            W_DIST * filled,
            W_REGION * region_n,
            W_CHAN * chan,
        ]
    ).astype(np.float32)


def replace_rows(market: Market, brands: Sequence[BrandInput], *, remove_ids: Iterable[int] = ()) -> Market:
    """Update the market in place for changed/new brands and drop removed ones (incremental,
    used by the per-process cache so one brand's edit does not rebuild 100,000 rows). The
    text of changed brands goes through the vectorizer and SVD fitted at build time."""
    remove = {int(x) for x in remove_ids}
    if remove:
        keep = np.array([int(b) not in remove for b in market.ids])
        idx = np.flatnonzero(keep)
        for name in ARRAY_FIELDS:
            setattr(market, name, getattr(market, name)[keep])
        market.slugs = [market.slugs[i] for i in idx]
        market.tones = [market.tones[i] for i in idx]
        market.__post_init__()  # row numbers moved: rebuild the id → row index
    if not brands:
        return market
    leaf_pos = {int(lid): i for i, lid in enumerate(market.leaf_ids)}
    text_dense = np.zeros((len(brands), TEXT_DIMS), np.float32)
    if market.vectorizer is not None and market.svd is not None:
        docs = [brand_document(b.tone_tags, b.description) for b in brands]
        dims = market.svd.n_components
        text_dense[:, :dims] = _unit_rows(market.svd.transform(market.vectorizer.transform(docs)).astype(np.float32))
    new_rows = row_features(brands, leaf_pos)
    new_rows.update(
        ids=np.array([b.id for b in brands], np.int64),
        text_dense=text_dense,
        tone_bits=market.tones_to_bits([b.tone_tags or [] for b in brands]),
        region_bits=regions_to_bits(new_rows["regions"]),
        emb=_embed_rows(new_rows, text_dense, market.dist_mean),
    )

    existing = [market.index.get(b.id) for b in brands]
    upd = [(k, r) for k, r in enumerate(existing) if r is not None]
    new = [k for k, r in enumerate(existing) if r is None]
    if upd:
        ks = np.array([k for k, _ in upd])
        rs = np.array([r for _, r in upd])
        for name in ARRAY_FIELDS:
            getattr(market, name)[rs] = new_rows[name][ks]
        market.emb_sq[rs] = np.einsum("ij,ij->i", market.emb[rs], market.emb[rs])
        for k, r in upd:
            market.tones[r] = list(brands[k].tone_tags or [])
            market.slugs[r] = brands[k].slug
    if new:
        ks = np.array(new)
        for name in ARRAY_FIELDS:
            setattr(market, name, np.concatenate([getattr(market, name), new_rows[name][ks]]))
        market.slugs += [brands[k].slug for k in new]
        market.tones += [list(brands[k].tone_tags or []) for k in new]
    if new or remove:
        market.__post_init__()
    return market


ARRAY_FIELDS = (
    "ids",
    "cat",
    "scale",
    "log_scale",
    "tier",
    "dist",
    "dist_known",
    "regions",
    "chan",
    "emb",
    "text_dense",
    "tone_bits",
    "region_bits",
)


def scale_label(value: float, language: str) -> str:
    """12万 / 120K — how reasons show an audience size (``huiliu.formatting.compact``, the
    formatter every page uses, so a reason and the card beside it agree)."""
    return formatting.compact(value, language)


def log_ratio(a: float, b: float) -> float:
    return abs(math.log10(1 + a) - math.log10(1 + b))
