"""factory_boy factories for the test suite, and builders of whole scenes (a matching market,
a swap history, stored recommendations) shared by several test folders."""

import factory
from django.contrib.auth import get_user_model

from matching import market
from matching.models import Outcome, OutcomeKind, Recommendation
from partners.models import ApiKey, Brand, BrandStatus, Category, Channel, ChannelType, Membership, Role
from partners.validation import credit_code_check_char


def category(code: str) -> Category:
    """A shipped taxonomy category (loaded by migration 0002)."""
    return Category.objects.get(code=code)


def valid_credit_code(n: int) -> str:
    body = f"91310000{n:09d}"[:17]
    return body + credit_code_check_char(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminFactory(UserFactory):
    is_staff = True
    is_superuser = True


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    slug = factory.Sequence(lambda n: f"brand-{n}")
    name = factory.Sequence(lambda n: f"品牌{n}")
    name_en = factory.Sequence(lambda n: f"Brand {n}")
    credit_code = factory.Sequence(valid_credit_code)
    category = factory.LazyFunction(lambda: category("beverage.coffee"))
    price_tier = 3
    tone_tags = factory.LazyFunction(lambda: ["young", "urban"])
    audience = factory.LazyFunction(
        lambda: {
            "gender": {"female": 0.6, "male": 0.4},
            "age": {"18-24": 0.3, "25-34": 0.4, "35-44": 0.2, "45+": 0.1},
            "regions": ["CN-SH"],
        }
    )
    status = BrandStatus.APPROVED
    active_audience = 0


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    brand = factory.SubFactory(BrandFactory)
    type = ChannelType.WECOM
    size = 100_000
    active_rate = 0.3


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Role.OWNER


# --- Matching scenes --------------------------------------------------------------------------------
AUDIENCE = {
    "gender": {"female": 0.7, "male": 0.3},
    "age": {"18-24": 0.3, "25-34": 0.5, "35-44": 0.1, "45+": 0.1},
    "city_tier": {"tier1": 0.5, "new_tier1": 0.3, "tier2": 0.1, "tier3_plus": 0.1},
    "regions": ["CN-SH", "CN-BJ"],
}


def make_brand(
    slug: str,
    code: str = "food.bakery",
    *,
    scale: int = 100_000,
    tier: int = 3,
    tones: list[str] | None = None,
    audience: dict | None = None,
    status: str = BrandStatus.APPROVED,
    channel: str = ChannelType.WECOM,
):
    """An approved brand with one channel whose active audience is ``scale``. Like a write
    through the partners services, it marks the cached markets stale."""
    brand = BrandFactory(
        slug=slug,
        category=category(code),
        active_audience=scale,
        price_tier=tier,
        tone_tags=tones if tones is not None else ["young", "urban"],
        audience=audience if audience is not None else AUDIENCE,
        status=status,
        description="年轻都市人群喜爱的品牌",
    )
    ChannelFactory(brand=brand, type=channel, size=scale * 2, active_rate=0.5)
    market.bump_version()
    return brand


def swap_history(
    *, coffees: int = 4, bakeries: int = 4, snacks: int = 4, new_members: tuple[int, int] = (300, 250), **brand
) -> None:
    """Past swaps to train from: every coffee brand's swap with a bakery completed (each side
    gaining ``new_members``), with a snack brand declined. ``brand`` goes to ``make_brand``."""
    coffee_brands = [make_brand(f"coffee-{i}", "beverage.coffee", **brand) for i in range(coffees)]
    bakery_brands = [make_brand(f"bakery-{i}", "food.bakery", **brand) for i in range(bakeries)]
    snack_brands = [make_brand(f"snacks-{i}", "food.snacks", **brand) for i in range(snacks)]
    a_new, b_new = new_members
    for c in coffee_brands:
        for b in bakery_brands:
            Outcome.objects.create(
                brand_a=c, brand_b=b, outcome=OutcomeKind.COMPLETED, a_new_members=a_new, b_new_members=b_new
            )
        for s in snack_brands:
            Outcome.objects.create(brand_a=c, brand_b=s, outcome=OutcomeKind.DECLINED)


PARTNER_CATEGORIES = ["food.bakery", "beauty.skincare", "apparel.sportswear", "home.furniture", "travel.hotels"]


def make_partners(n: int, *, prefix: str = "partner") -> list:
    """``n`` approved partner brands with secrets (legal name, channel label) that must never leak."""
    partners = []
    for i in range(n):
        p = BrandFactory(
            slug=f"{prefix}-{i}",
            name=f"伙伴{prefix}{i}",
            name_en=f"Partner {prefix} {i}",
            category=category(PARTNER_CATEGORIES[i % len(PARTNER_CATEGORIES)]),
            legal_name=f"SECRET-LEGAL-{prefix}-{i}",
            active_audience=1000 * (i + 1),
        )
        ChannelFactory(brand=p, type="wecom", label=f"SECRET-CHANNEL-{prefix}-{i}")
        partners.append(p)
    return partners


def recommend(brand, partners, *, version: int = 0) -> list[Recommendation]:
    """Stored recommendations of ``brand`` (as a refresh writes them), best first."""
    rows = []
    for rank, partner in enumerate(partners, start=1):
        rows.append(
            Recommendation.objects.create(
                brand=brand,
                partner=partner,
                rank=rank,
                score=round(0.95 - 0.01 * rank, 4),
                components={"scale": 0.9, "positioning": 0.8, "audience": 0.7, "category": 0.6, "learned": None},
                reasons_zh=[f"规模相当：{partner.name}", "品类不冲突，无直接竞争"],
                reasons_en=[f"Comparable scale: {partner.name_en}", "No direct competition"],
                model_version=version,
            )
        )
    return rows


__all__ = [
    "AdminFactory",
    "ApiKey",
    "BrandFactory",
    "ChannelFactory",
    "MembershipFactory",
    "UserFactory",
    "category",
    "make_brand",
    "make_partners",
    "recommend",
    "swap_history",
    "valid_credit_code",
]
