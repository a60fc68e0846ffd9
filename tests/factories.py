"""factory_boy factories for the test suite."""

import factory
from django.contrib.auth import get_user_model

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


__all__ = [
    "AdminFactory",
    "ApiKey",
    "BrandFactory",
    "ChannelFactory",
    "MembershipFactory",
    "UserFactory",
    "category",
    "valid_credit_code",
]
