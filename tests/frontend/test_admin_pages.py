"""Platform admins on the web: they land on the review queue, the top bar shows their
destinations, and a brand's page speaks to them as reviewers (no owner wording, no
"resubmit", the review actions instead)."""

import pytest
from django.urls import reverse

from partners import services
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent, BrandStatus
from tests.factories import AdminFactory, BrandFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def test_an_admin_lands_on_the_review_queue_after_signing_in(client):
    AdminFactory(username="ops@huiliu.example")
    response = client.post(reverse("frontend:login"), {"email": "ops@huiliu.example", "password": PASSWORD})
    assert response["Location"] == reverse("frontend:queue")


def test_an_admin_signing_in_for_a_page_goes_to_that_page(client):
    AdminFactory(username="ops@huiliu.example")
    target = reverse("frontend:matcher")
    response = client.post(
        reverse("frontend:login") + f"?next={target}",
        {"email": "ops@huiliu.example", "password": PASSWORD, "next": target},
    )
    assert response["Location"] == target


def test_a_brand_member_still_lands_on_my_brands(client, owner):
    response = client.post(reverse("frontend:login"), {"email": "owner@example.com", "password": PASSWORD})
    assert response["Location"] == reverse("frontend:dashboard")


def test_an_admin_without_brands_sees_admin_destinations_in_the_top_bar(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    html = admin_client_.get(reverse("frontend:queue")).content.decode()
    nav = html[html.index('<nav class="mainnav"') : html.index("</nav>")]
    for name in ("queue", "matcher", "proposals_admin", "campaigns", "settlements"):
        assert f'href="{reverse(f"frontend:{name}")}"' in nav
    # Channel rates, disputes and the settlement policy are tabs behind the one "Exchange admin" entry.
    assert f'href="{reverse("frontend:rates")}"' not in nav
    tabs = admin_client_.get(reverse("frontend:proposals_admin")).content.decode()
    for name in ("rates", "disputes_admin", "settlement_admin"):
        assert f'href="{reverse(f"frontend:{name}")}"' in tabs
    assert f'href="{reverse("frontend:dashboard")}"' not in nav  # an empty "My brands"
    assert f'href="{reverse("frontend:recommendations_pick")}"' not in nav


def test_the_home_page_sends_an_admin_to_the_queue(admin_client_):
    html = admin_client_.get(reverse("frontend:home")).content.decode()
    hero = html[html.index('class="hero-actions"') :]
    assert f'href="{reverse("frontend:queue")}"' in hero[: hero.index("</div>")]


def test_an_admin_on_a_rejected_brand_sees_review_actions_not_the_owners_page(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    brand = BrandFactory(status=BrandStatus.REJECTED, status_reason="营业执照模糊")
    html = admin_client_.get(reverse("frontend:brand_detail", args=[brand.slug])).content.decode()
    assert "Your brand was not approved." not in html
    assert "Resubmit for review" not in html
    assert "This brand was not approved." in html and "营业执照模糊" in html
    assert f'action="{reverse("frontend:queue_transition", args=[brand.pk, "approve"])}"' in html


def test_an_admin_approves_a_rejected_brand_from_its_page_and_returns_to_it(admin_client_, admin_user):
    brand = BrandFactory(status=BrandStatus.REJECTED, status_reason="营业执照模糊")
    page = reverse("frontend:brand_detail", args=[brand.slug])
    response = admin_client_.post(
        reverse("frontend:queue_transition", args=[brand.pk, "approve"]), {"reason": "补充材料已核验", "next": page}
    )
    assert response["Location"] == page
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED
    event = AuditEvent.objects.get(brand=brand, action=AuditAction.BRAND_APPROVED)
    assert event.data == {"from": BrandStatus.REJECTED, "to": BrandStatus.APPROVED} and event.actor == admin_user


def test_an_admin_on_a_pending_brand_sees_approve_and_reject(admin_client_):
    brand = BrandFactory(status=BrandStatus.PENDING)
    html = admin_client_.get(reverse("frontend:brand_detail", args=[brand.slug])).content.decode()
    for action in ("approve", "reject"):
        assert f'action="{reverse("frontend:queue_transition", args=[brand.pk, action])}"' in html


def test_an_owner_still_sees_the_owners_page_of_a_rejected_brand(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    brand.status = BrandStatus.REJECTED
    brand.save()
    html = owner_client.get(reverse("frontend:brand_detail", args=[brand.slug])).content.decode()
    assert "Your brand was not approved." in html and "Resubmit for review" in html
    assert "queue_transition" not in html and "/review/" not in html


def test_only_an_admin_reverses_a_rejection(owner_actor, brand):
    brand.status = BrandStatus.REJECTED
    brand.save()
    with pytest.raises(Exception):  # noqa: B017 - the service's permission error
        services.brand_approve(actor=owner_actor, brand=brand)
    services.brand_approve(actor=Actor(user=AdminFactory()), brand=brand)
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED
