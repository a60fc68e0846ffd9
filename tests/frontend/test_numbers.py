"""Counts read the same on every page: one formatter (``huiliu.formatting``) behind the
``num`` and ``headcount`` filters, 万/亿 in Chinese and K/M in English, separators for exact
counts, never a raw ``20000000`` or a ``257.0万``."""

import re

import pytest
from django.urls import reverse

from partners.models import BrandStatus
from tests.factories import BrandFactory, ChannelFactory

pytestmark = pytest.mark.django_db


def test_review_queue_shows_the_active_audience_like_every_other_page(admin_client_):
    BrandFactory(slug="tide-coffee", status=BrandStatus.PENDING, active_audience=2_810_000)
    html = admin_client_.get(reverse("frontend:queue")).content.decode()
    assert "281万" in html and "2,810,000" not in html and "2810000" not in html
    admin_client_.cookies.load({"django_language": "en"})
    html = admin_client_.get(reverse("frontend:queue")).content.decode()
    assert "2.8M" in html


def test_channel_editor_shows_sizes_with_separators_and_reads_them_back(owner_client, brand):
    ChannelFactory(brand=brand, size=20_000_000, active_rate=0.1)
    html = owner_client.get(reverse("frontend:brand_channels", args=[brand.slug])).content.decode()
    assert 'value="20,000,000"' in html and "20000000" not in html
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {
            "channel_type": ["wecom"],
            "channel_label": [""],
            "channel_size": ["20,000,000"],
            "channel_active_rate": ["10"],
        },
    )
    assert response.status_code == 302
    assert brand.channels.get().size == 20_000_000


def test_public_profile_shows_the_store_count_with_separators(client):
    brand = BrandFactory(store_count=10_000)
    client.cookies.load({"django_language": "en"})
    html = client.get(reverse("frontend:brand_public", args=[brand.slug])).content.decode()
    assert "10,000 stores" in html and "10000" not in html


def test_no_page_shows_a_trailing_zero_decimal_count(owner_client, brand):
    brand.active_audience = 2_570_000
    brand.save()
    for url in (reverse("frontend:dashboard"), reverse("frontend:brand_detail", args=[brand.slug])):
        html = owner_client.get(url).content.decode()
        assert "257万" in html
        assert not re.search(r"\d\.0[万亿KMB]", html)
