"""``Brand.logoUrl``: the absolute URL the web app serves the logo at, or null."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partners import services
from partners.actors import Actor
from tests.partners.test_logos import PNG

pytestmark = pytest.mark.django_db

QUERY = "query($slug: String) { brand(slug: $slug) { logoUrl } }"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_logo_url_is_null_without_a_logo(anon, brand):
    assert anon(QUERY, {"slug": brand.slug})["brand"] == {"logoUrl": None}


def test_logo_url_is_an_absolute_url_that_serves_the_image(anon, brand, owner, client):
    services.brand_logo_set(actor=Actor(user=owner), brand=brand, upload=SimpleUploadedFile("a.png", PNG))
    url = anon(QUERY, {"slug": brand.slug})["brand"]["logoUrl"]
    assert url.startswith(f"http://testserver/brands/{brand.slug}/logo/?v=")
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
