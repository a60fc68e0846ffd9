"""``manage.py recommend SLUG --top K [--json]`` and ``recommend --all --top K --out PATH``.

SLUG: refreshes that brand with the active model and prints its top K (a table with
reasons, or JSON). --all: refreshes every approved brand, then writes one JSON line per
approved brand: {"brand": slug, "matches": [{"brand", "score", "reasons"}, …]}.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from matching.models import Recommendation
from matching.refresh import top_k
from matching.services import as_dict, brand_matches, recommendations_refresh_all, recommendations_refresh_brand
from partners.models import Brand, BrandStatus


class Command(BaseCommand):
    help = "Recommend partners for one brand (table or --json), or for all brands (--all --out PATH)."

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?")
        parser.add_argument("--top", type=int, default=10)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--out", help="JSON Lines output file (with --all)")
        parser.add_argument("--language", default="", help="zh-hans or en (reasons); default: settings")

    def handle(self, *args, slug, top, json: bool, all: bool, out, language, **options):
        if top < 1 or top > 100:
            raise CommandError(_("--top must be between 1 and 100."))
        lang = language or translation.get_language() or "zh-hans"
        if all:
            if slug or not out:
                raise CommandError(_("use either SLUG or --all --out PATH."))
            return self._all(top, out, lang)
        if not slug:
            raise CommandError(_("give a brand SLUG, or --all --out PATH."))
        brand = Brand.objects.filter(slug=slug).first()
        if brand is None:
            raise CommandError(_("no brand with slug %(s)s.") % {"s": slug})
        if brand.status != BrandStatus.APPROVED:
            raise CommandError(
                _("%(s)s is not approved (%(st)s); only approved brands get recommendations.")
                % {"s": slug, "st": brand.get_status_display()}
            )
        recommendations_refresh_brand(brand_id=brand.pk, top=max(top, 20))
        recs = brand_matches(brand=brand, top=top)
        if json:
            self.stdout.write(_json({"brand": brand.slug, "matches": [as_dict(r, lang) for r in recs]}, indent=2))
            return
        self.stdout.write(
            f"{brand.slug} — {brand.name}: {len(recs)} recommendations (model v{recs[0].model_version if recs else 0})"
        )
        self.stdout.write(
            f"{'#':>3}  {'partner':<28} {'score':>5}  {'scale':>5} {'posit':>5} {'audie':>5} {'categ':>5}"
        )
        for r in recs:
            c = r.components
            self.stdout.write(
                f"{r.rank:>3}  {r.partner.slug[:28]:<28} {r.score:5.2f}  {c['scale']:5.2f} {c['positioning']:5.2f} "
                f"{c['audience']:5.2f} {c['category']:5.2f}"
            )
            for reason in r.reasons(lang):
                self.stdout.write(f"       · {reason}")

    def _all(self, top: int, out: str, lang: str) -> None:
        stats = recommendations_refresh_all(top=max(top, top_k()), progress=lambda m: self.stderr.write(m))
        approved = Brand.objects.filter(status=BrandStatus.APPROVED).order_by("slug").values_list("id", "slug")
        by_brand: dict[int, list] = {}
        qs = Recommendation.objects.filter(rank__lte=top).select_related("partner").order_by("brand_id", "rank")
        for rec in qs.iterator(chunk_size=10000):
            if rec.partner.status == BrandStatus.APPROVED:
                by_brand.setdefault(rec.brand_id, []).append(as_dict(rec, lang))
        target = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
        n = 0
        try:
            for brand_id, brand_slug in approved.iterator(chunk_size=10000):
                target.write(_json({"brand": brand_slug, "matches": by_brand.get(brand_id, [])}) + "\n")
                n += 1
                if n % 10000 == 0:
                    self.stderr.write(f"written {n:,} brands")
        finally:
            if target is not sys.stdout:
                target.close()
        self.stderr.write(f"{n:,} brands, {stats.rows:,} recommendations (model v{stats.model_version}) → {out}")


def _json(value, indent=None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)
