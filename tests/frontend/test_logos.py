"""Logos on the web: uploaded from the profile editor, served by the app with the type read
from the content, shown on cards, brand pages and recommendations in place of the letter."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partners import services
from partners.actors import Actor
from partners.models import BrandStatus
from tests.factories import BrandFactory
from tests.frontend.conftest import errors_in
from tests.partners.test_logos import JPEG, PNG, SVG

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def logo_post(client, brand, content, name="logo.png", **extra):
    return client.post(
        reverse("frontend:brand_logo_upload", args=[brand.slug]),
        {"logo": SimpleUploadedFile(name, content, content_type="image/png"), **extra},
    )


def test_the_profile_editor_has_a_logo_form(owner_client, brand):
    html = owner_client.get(reverse("frontend:brand_edit", args=[brand.slug])).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert f'action="{reverse("frontend:brand_logo_upload", args=[brand.slug])}"' in html
    assert 'accept="image/png,image/jpeg,image/webp"' in html


def test_an_owner_uploads_a_logo_and_every_page_shows_it(owner_client, brand):
    response = logo_post(owner_client, brand, PNG)
    assert response["Location"] == reverse("frontend:brand_edit", args=[brand.slug])
    brand.refresh_from_db()
    assert brand.logo
    src = reverse("frontend:brand_logo", args=[brand.slug])
    for url in (
        reverse("frontend:dashboard"),
        reverse("frontend:brand_detail", args=[brand.slug]),
        reverse("frontend:brand_public", args=[brand.slug]),
        reverse("frontend:marketplace"),
    ):
        html = owner_client.get(url).content.decode()
        assert '<img class="avatar' in html and f'src="{src}?v=' in html, url


def test_the_logo_is_served_with_the_type_of_its_content(client, brand, owner):
    services.brand_logo_set(
        actor=Actor(user=owner), brand=brand, upload=SimpleUploadedFile("x.png", JPEG, content_type="image/png")
    )
    response = client.get(reverse("frontend:brand_logo", args=[brand.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == JPEG


def test_a_pending_brands_logo_is_private_to_its_members(client, owner, brand):
    brand.status = BrandStatus.PENDING
    brand.save()
    services.brand_logo_set(actor=Actor(user=owner), brand=brand, upload=SimpleUploadedFile("x.png", PNG))
    url = reverse("frontend:brand_logo", args=[brand.slug])
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200


def test_a_brand_without_a_logo_keeps_its_letter_and_has_no_logo_url(client):
    brand = BrandFactory(name="潮汐咖啡")
    assert client.get(reverse("frontend:brand_logo", args=[brand.slug])).status_code == 404
    html = client.get(reverse("frontend:brand_public", args=[brand.slug])).content.decode()
    assert '<span class="avatar avatar-lg" aria-hidden="true">潮</span>' in html


def test_a_disguised_or_oversized_upload_is_refused_on_the_edit_page(owner_client, brand):
    owner_client.cookies.load({"django_language": "en"})
    response = logo_post(owner_client, brand, SVG, name="logo.png")
    assert response.status_code == 200
    assert "The logo must be a PNG, JPEG or WebP image." in errors_in(response)
    response = logo_post(owner_client, brand, PNG + b"\x00" * (600 * 1024))
    assert "larger than 512 KB" in errors_in(response)
    brand.refresh_from_db()
    assert not brand.logo


def test_an_owner_removes_the_logo(owner_client, brand, owner):
    services.brand_logo_set(actor=Actor(user=owner), brand=brand, upload=SimpleUploadedFile("x.png", PNG))
    response = owner_client.post(reverse("frontend:brand_logo_upload", args=[brand.slug]), {"remove": "1"})
    assert response.status_code == 302
    brand.refresh_from_db()
    assert not brand.logo


def test_a_viewer_or_another_brand_cannot_upload(client, viewer, other_owner, brand):
    for user in (viewer, other_owner):
        client.force_login(user)
        assert logo_post(client, brand, PNG).status_code == 404
    brand.refresh_from_db()
    assert not brand.logo


def test_recommendation_cards_show_the_partners_logo(owner_client, brand, fresh_matching_state):
    from matching import services as matching
    from tests.factories import make_brand

    brand.active_audience = 100_000
    brand.save()
    partner = make_brand("sunny-bakery", "food.bakery", scale=96_000)
    services.brand_logo_set(actor=Actor.system_actor(), brand=partner, upload=SimpleUploadedFile("x.png", PNG))
    matching.recommendations_refresh_brand(brand_id=brand.pk)
    html = owner_client.get(reverse("frontend:recommendations", args=[brand.slug])).content.decode()
    assert f'src="{reverse("frontend:brand_logo", args=[partner.slug])}?v=' in html
