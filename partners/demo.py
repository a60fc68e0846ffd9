"""The demo market (``manage.py load_demo``, run by ``make demo``).

The market: the brands the seed articles name (``partners/demo_data/seed_brands.py``, with
the articles' figures), a few hundred generated brands across every taxonomy leaf
(``partners/demo_data/generator.py``, shared with the import benchmark), a few
competition rules and blocks, and one demo account per role. Every brand goes through the
bulk importer, so the demo data passes the same validation as any partner's file.

Re-running only creates what is missing: a demo brand that exists is left exactly as its owner
or an admin changed it (profile, channels, blocks, status), a deleted one comes back. The
demo accounts' passwords are reset on every run, so the printed credentials always work.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from partners import services
from partners.actors import Actor
from partners.demo_data.generator import generated_brands
from partners.demo_data.seed_brands import SEED_BLOCKS, SEED_BRANDS
from partners.importer import brands_import
from partners.models import Brand, BrandStatus, Membership, Role

# --- The demo market ------------------------------------------------------------------------------
DEMO_PASSWORD = "huiliu-demo-2026"
# (e-mail, role, brand slug, display name); the admin is a staff superuser, the others members.
DEMO_ACCOUNTS = [
    ("admin@huiliu.demo", "admin", None, "汇流平台 · 审核组"),
    ("owner@huiliu.demo", Role.OWNER, "luckin-coffee", "瑞幸咖啡 私域负责人 · 张晴"),
    ("marketer@huiliu.demo", Role.MARKETER, "pop-mart", "泡泡玛特 会员运营 · 许诺"),
]
# Admin competition rules beyond "same leaf": the daily-drink occasion, phone makers selling
# earbuds, and ice cream vs yoghurt desserts fight for the same purchase.
DEMO_RULES = [
    ("beverage.coffee", "beverage.tea_drinks", "同一日常饮品消费场景"),
    ("electronics.phones", "electronics.audio", "手机品牌自营耳机音箱"),
    ("food.dairy", "food.frozen", "酸奶甜品与冰品争夺同一甜品预算"),
]
GENERATED = 300
# Status mix of generated brands: most approved so the marketplace is full, some left in
# each other state so the admin queue and the suspended/rejected views have something.
STATUS_WEIGHTS = [
    (BrandStatus.APPROVED, 80),
    (BrandStatus.PENDING, 10),
    (BrandStatus.REJECTED, 5),
    (BrandStatus.SUSPENDED, 5),
]
REJECT_REASON = "营业执照上的主体名称与统一社会信用代码不一致，请上传最新营业执照后重新提交。"
SUSPEND_REASON = "合作方反馈上一期置换未按约定交付，暂停合作待核实。"


@dataclass
class DemoResult:
    brands: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (e-mail, role, brand)
    password: str = DEMO_PASSWORD


def demo_payloads(*, generated: int = GENERATED, seed: int = 2026) -> list[dict[str, Any]]:
    """Seed brands then generated ones, each with the demo ``status`` (and ``reason``) to reach."""
    rng = random.Random(seed + 1)
    out = [dict(b) for b in SEED_BRANDS]
    for slug, blocked in SEED_BLOCKS.items():
        next(b for b in out if b["slug"] == slug)["blocked"] = blocked
    states, weights = zip(*STATUS_WEIGHTS, strict=True)
    gen = list(generated_brands(generated, seed=seed))
    for brand in gen:
        brand["status"] = rng.choices(states, weights)[0]
    # A few blocks between generated approved brands (blocks are a brand's own choice).
    approved = [b for b in gen if b["status"] == BrandStatus.APPROVED]
    for brand in rng.sample(approved, min(8, len(approved))):
        target = rng.choice(approved)
        if target is not brand:
            brand["blocked"] = [target["slug"]]
    return out + gen


def demo_load(
    *, generated: int = GENERATED, seed: int = 2026, progress: Callable[[str], None] | None = None
) -> DemoResult:
    """Load the demo market, creating only the brands that do not exist yet; safe to run again."""
    system = Actor.system_actor()
    payloads = demo_payloads(generated=generated, seed=seed)
    target = {b["slug"]: (b["status"], b.get("reason", "")) for b in payloads}
    existing = set(Brand.objects.filter(slug__in=list(target)).values_list("slug", flat=True))
    missing = [b for b in payloads if b["slug"] not in existing]

    def strip(b: dict) -> dict:
        return {k: v for k, v in b.items() if k not in ("status", "reason")}

    # Live brands (approved, suspended) are imported approved; queue brands (pending, rejected)
    # pending. Live brands only block live brands, so the first file never names the second's.
    live = [strip(b) for b in missing if b["status"] in (BrandStatus.APPROVED, BrandStatus.SUSPENDED)]
    queue = [strip(b) for b in missing if b["status"] in (BrandStatus.PENDING, BrandStatus.REJECTED)]
    with transaction.atomic():
        for lines, approve in ((live, True), (queue, False)):
            if lines:
                brands_import(
                    path_or_lines=[json.dumps(b, ensure_ascii=False) for b in lines], approve=approve, actor=system
                )
        # Only the brands created now reach their demo status; the others keep theirs.
        for brand in Brand.objects.filter(slug__in=[b["slug"] for b in missing]):
            status, reason = target[brand.slug]
            if status == BrandStatus.REJECTED and brand.status == BrandStatus.PENDING:
                services.brand_reject(actor=system, brand=brand, reason=reason or REJECT_REASON)
            elif status == BrandStatus.SUSPENDED and brand.status == BrandStatus.APPROVED:
                services.brand_suspend(actor=system, brand=brand, reason=SUSPEND_REASON)
        if not existing:  # first load only: a rule an admin removed stays removed
            for a, b, note in DEMO_RULES:
                services.competition_rule_create(actor=system, category_a=a, category_b=b, note=note)
        result = DemoResult()
        result.accounts = _accounts(system)
        result.brands = Brand.objects.filter(slug__in=list(target)).count()
        for status in BrandStatus.values:
            result.by_status[status] = Brand.objects.filter(slug__in=list(target), status=status).count()
    return result


def _accounts(system: Actor) -> list[tuple[str, str, str]]:
    User = get_user_model()
    out = []
    for email, role, slug, display in DEMO_ACCOUNTS:
        user, _created = User.objects.get_or_create(username=email, defaults={"email": email})
        user.email, user.display_name = email, display
        user.is_staff = user.is_superuser = role == "admin"
        user.is_active = True
        user.set_password(DEMO_PASSWORD)  # reset each run, so the printed password always works
        user.save()
        if slug:
            brand = Brand.objects.get(slug=slug)
            if not Membership.objects.filter(user=user, brand=brand, role=role).exists():
                services.membership_add(actor=system, brand=brand, email=email, role=role)
        out.append((email, str(role), slug or ""))
    return out
