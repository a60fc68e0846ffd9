"""The demo market (``manage.py load_demo``): idempotent, every seed brand with its figures and
a valid credit code, every taxonomy leaf populated, each status present, demo accounts work."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from exchange.demo import PARTNER_PEOPLE
from partners import selectors, services
from partners.actors import Actor
from partners.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, GENERATED, demo_load
from partners.demo_data.generator import generated_brands
from partners.demo_data.seed_brands import SEED_BRANDS, SOURCES
from partners.models import (
    AuditAction,
    AuditEvent,
    Brand,
    BrandBlock,
    BrandStatus,
    Category,
    Channel,
    CompetitionRule,
    Membership,
    Role,
)
from partners.taxonomy import leaf_codes
from partners.validation import validate_credit_code

pytestmark = pytest.mark.django_db


def market_counts() -> dict[str, int]:
    return {
        "brands": Brand.objects.count(),
        "channels": Channel.objects.count(),
        "blocks": BrandBlock.objects.count(),
        "memberships": Membership.objects.count(),
        "users": get_user_model().objects.count(),
        "rules": CompetitionRule.objects.count(),
        **{status: Brand.objects.filter(status=status).count() for status in BrandStatus.values},
    }


def test_load_demo_twice_gives_the_same_market(capsys):
    call_command("load_demo")
    first = market_counts()
    call_command("load_demo")
    assert market_counts() == first
    assert first["brands"] == len(SEED_BRANDS) + GENERATED
    # the three printed demo accounts, and the partner brands' people of the demo swaps
    assert first["rules"] == 3 and first["blocks"] >= 2 and first["users"] == 3 + len(PARTNER_PEOPLE)


def test_load_demo_prints_the_demo_accounts_and_password(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    for email, _role, _slug, _name in DEMO_ACCOUNTS:
        assert email in out
    # each account's role by its label, never its code
    assert "Platform admin" in out and "Owner" in out
    assert not any(line.split()[:1] in (["admin"], ["owner"], ["viewer"]) for line in out.splitlines())


def test_demo_accounts_can_log_in_with_their_roles():
    demo_load()
    User = get_user_model()
    admin = User.objects.get(username="admin@huiliu.demo")
    assert admin.check_password(DEMO_PASSWORD) and admin.is_staff and admin.is_superuser
    assert authenticate(username="owner@huiliu.demo", password=DEMO_PASSWORD) is not None
    owner = Membership.objects.get(user__username="owner@huiliu.demo")
    assert (owner.brand.slug, owner.role) == ("luckin-coffee", Role.OWNER)
    marketer = Membership.objects.get(user__username="marketer@huiliu.demo")
    assert (marketer.brand.slug, marketer.role) == ("pop-mart", Role.MARKETER)
    assert not User.objects.get(username="marketer@huiliu.demo").is_staff
    # a changed password is put back on the next run, so the printed credentials always work
    admin.set_password("something-else")
    admin.save()
    demo_load()
    assert User.objects.get(username="admin@huiliu.demo").check_password(DEMO_PASSWORD)


def test_every_seed_brand_is_present_in_its_category_with_a_valid_credit_code():
    demo_load()
    for seed in SEED_BRANDS:
        brand = Brand.objects.get(slug=seed["slug"])
        assert brand.name == seed["name"]
        assert brand.category.code == seed["category"]
        assert validate_credit_code(brand.credit_code) == brand.credit_code
        assert brand.status == seed["status"]
        assert brand.channels.exists() and brand.active_audience > 0


def test_seed_figures_from_the_articles_are_used_and_cited():
    demo_load()
    pop_mart = Brand.objects.get(slug="pop-mart")
    assert pop_mart.channels.get(type="official_account").size == 2_000_000  # 公众号 200 万粉丝
    assert pop_mart.channels.get(type="miniprogram").active_rate == 0.58  # 复购率 58%
    assert "58%" in pop_mart.description and "320 万" in pop_mart.description
    watsons = Brand.objects.get(slug="watsons")
    assert watsons.store_count == 4200 and watsons.channels.get(type="wecom").size == 40_000_000
    assert watsons.category.code == "retail.drugstore"
    tea = Brand.objects.get(slug="liang-jiang-ren")
    assert tea.audience["gender"]["male"] >= 0.7  # 70% 以上为男性
    assert tea.audience["age"]["45+"] + tea.audience["age"]["35-44"] > 0.5  # 中老年居多
    assert "6.8 万" in Brand.objects.get(slug="tcl").description


def test_generated_brands_cover_every_leaf_and_each_status_is_present():
    demo_load()
    leaves = set(leaf_codes())
    present = set(Brand.objects.values_list("category__code", flat=True).distinct())
    assert leaves <= present
    assert set(Category.objects.filter(is_leaf=True).values_list("code", flat=True)) <= present
    for status in BrandStatus.values:
        assert Brand.objects.filter(status=status).exists(), status
    assert (
        Brand.objects.filter(status=BrandStatus.REJECTED).exclude(status_reason="").count()
        == Brand.objects.filter(status=BrandStatus.REJECTED).count()
    )
    assert AuditEvent.objects.filter(action=AuditAction.BRAND_SUSPENDED).exists()


def test_demo_competition_rule_makes_coffee_and_tea_drinks_compete():
    demo_load()
    luckin = Brand.objects.get(slug="luckin-coffee")
    tea = Brand.objects.filter(category__code="beverage.tea_drinks").first()
    toys = Brand.objects.get(slug="pop-mart")
    assert selectors.brands_compete(luckin, tea)
    assert not selectors.brands_compete(luckin, toys)


# Development notes that must never reach a public page: article citations, issue numbers,
# "demo" markers, "estimate" disclaimers. Citations live in seed_brands.SOURCES (code).
DEV_NOTES = ("种子文章", "issue", "演示", "估计值", "虚构", "随机生成", "demo", "seed", "estimate")


def _dev_notes(text: str) -> list[str]:
    return [note for note in DEV_NOTES if note.lower() in (text or "").lower()]


def test_demo_copy_reads_like_brands_own_content_with_no_development_notes():
    call_command("load_demo")
    leaks = {}
    for brand in Brand.objects.all():
        public = [brand.name, brand.name_en, brand.description, brand.status_reason]
        public += [c.label for c in brand.channels.all()]
        public += list(AuditEvent.objects.filter(brand=brand).values_list("reason", flat=True))
        found = [n for text in public for n in _dev_notes(text)]
        if found:
            leaks[brand.slug] = found
    assert leaks == {}
    people = get_user_model().objects.exclude(username="admin@huiliu.demo")
    assert [u.display_name for u in people if _dev_notes(u.display_name)] == []
    # generated brands describe themselves too (not an empty or placeholder text)
    assert all(len(b.description) >= 10 for b in Brand.objects.all())


def test_every_seed_brand_has_its_sources_in_code_not_on_the_page():
    for seed in SEED_BRANDS:
        assert seed["slug"] in SOURCES, seed["slug"]
        assert _dev_notes(seed["description"]) == [], seed["slug"]


def test_reloading_the_demo_keeps_what_owners_and_admins_changed():
    demo_load()
    system = Actor.system_actor()
    owner = Actor(user=get_user_model().objects.get(username="owner@huiliu.demo"))
    luckin = Brand.objects.get(slug="luckin-coffee")
    services.brand_update(actor=owner, brand=luckin, data={"description": "我们自己的介绍", "price_tier": 4})
    services.brand_channels_set(
        actor=owner, brand=luckin, channels=[{"type": "wecom", "size": 5000, "active_rate": 0.5}]
    )
    haagen = Brand.objects.get(slug="haagen-dazs")
    services.brand_unblock(actor=system, brand=haagen, blocked_slug="three-squirrels")
    lechun = Brand.objects.get(slug="lechun")  # pending in the demo: an admin approves it
    services.brand_approve(actor=system, brand=lechun)
    suspended = Brand.objects.filter(status=BrandStatus.SUSPENDED).first()
    services.brand_reinstate(actor=system, brand=suspended)
    counts = market_counts()

    demo_load()

    luckin.refresh_from_db()
    assert (luckin.description, luckin.price_tier) == ("我们自己的介绍", 4)
    assert list(luckin.channels.values_list("type", "size")) == [("wecom", 5000)]
    assert not BrandBlock.objects.filter(brand=haagen, blocked__slug="three-squirrels").exists()
    assert Brand.objects.get(slug="lechun").status == BrandStatus.APPROVED
    assert Brand.objects.get(pk=suspended.pk).status == BrandStatus.APPROVED
    assert market_counts() == counts


def test_reloading_the_demo_recreates_a_deleted_demo_brand():
    demo_load()
    Brand.objects.filter(slug="keep").delete()
    demo_load()
    keep = Brand.objects.get(slug="keep")
    assert keep.status == BrandStatus.APPROVED and keep.channels.exists()


def test_generator_is_deterministic_and_slugs_are_unique():
    a = list(generated_brands(500, seed=3))
    b = list(generated_brands(500, seed=3))
    assert a == b
    assert len({x["slug"] for x in a}) == 500
