"""Campaigns on the web: the list and the dashboard for both parties and staff, a 404 for
anyone else, figures from the rollups, the chart data handed to the page's script, and the
accepted proposal's link to its campaign."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from exchange.models import Campaign
from exchange.services.rollups import day_of, rollup_add, visitors_add
from partners.models import Role
from tests.factories import AdminFactory, BrandFactory, MembershipFactory, UserFactory
from tests.frontend.test_proposals import signed_in

pytestmark = pytest.mark.django_db


def _chart_data(html: str) -> dict:
    found = re.search(r'<script id="campaign-chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no chart data on the page"
    return json.loads(found.group(1))


@pytest.fixture
def running(campaign, coffee):
    """The campaign as if it had started two days ago, with a day of figures on Bean House's leg."""
    Campaign.objects.filter(pk=campaign.pk).update(starts_at=timezone.now() - timedelta(days=2))
    leg = campaign.legs.get(promoter=coffee)
    today = day_of(timezone.now())
    rollup_add(
        {(leg.pk, today): {"clicks": 1234, "filtered_clicks": 3, "new_members": 4, "delivered_value_cents": 40_000}}
    )
    visitors_add([(leg.pk, today, "a"), (leg.pk, today, "b")])
    return Campaign.objects.get(pk=campaign.pk)


def test_both_parties_see_the_dashboard_with_figures_links_and_chart_data(running, coffee_owner, toys_owner):
    for user, title in ((coffee_owner, "You promote Tiny Toys"), (toys_owner, "Bean House promotes you")):
        response = signed_in(user).get(reverse("frontend:campaign", args=[running.pk]))
        assert response.status_code == 200
        html = unescape(response.content.decode())
        assert title in html
        assert "1,234" in html and "¥100.00" in html  # 40,000 cents ÷ 4 new members
        for link in running.legs.get(promoter__slug="bean-house").links.all():
            assert f"/t/{link.code}" in html
        data = _chart_data(response.content.decode())
        assert len(data["days"]) == 3
        bean = data["legs"][0]  # brand A's leg first, for either reader
        assert bean["title"] == title or user == toys_owner
        clicks = next(s for s in bean["series"] if s["key"] == "clicks")
        assert clicks["name"] == "Clicks" and clicks["data"] == [0, 0, 1234]
        assert data["delivery"]["value"]["delivered"][0]["text"] == "¥400.00"
        assert "frontend/campaign_dashboard.js" in html and "vendor/echarts/echarts.min.js" in html


def test_the_dashboard_speaks_chinese_by_default(running, coffee_owner):
    from django.test import Client

    browser = Client()
    browser.force_login(coffee_owner)
    html = unescape(browser.get(reverse("frontend:campaign", args=[running.pk])).content.decode())
    assert "互惠进度" in html or "你推广" in html
    labels = _chart_data(html)["labels"]
    assert labels["delivered"] != "Delivered"


def test_another_brand_gets_a_404_and_anonymous_visitors_sign_in(running, client):
    outsider = BrandFactory(slug="outsider")
    user = MembershipFactory(brand=outsider, role=Role.OWNER, user=UserFactory()).user
    url = reverse("frontend:campaign", args=[running.pk])
    assert signed_in(user).get(url).status_code == 404
    assert signed_in(user).get(reverse("frontend:campaign", args=[999_999])).status_code == 404
    listed = unescape(signed_in(user).get(reverse("frontend:campaigns")).content.decode())
    assert "Tiny Toys" not in listed and "No campaigns yet." in listed
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_read_every_campaign(running):
    admin = AdminFactory()
    html = unescape(signed_in(admin).get(reverse("frontend:campaign", args=[running.pk])).content.decode())
    assert "Read-only: platform admins" in html and "Bean House promotes Tiny Toys" in html


def test_the_list_shows_state_partner_window_and_headline_numbers(running, coffee_owner, toys_owner):
    html = unescape(signed_in(toys_owner).get(reverse("frontend:campaigns")).content.decode())
    row = html[html.index('data-campaign="') :]
    assert "Bean House" in row and "Scheduled" in row
    assert 'data-figure="clicks">1,234<' in row  # Bean House's leg leads to Tiny Toys
    assert 'data-figure="new-members">4<' in row
    empty = unescape(signed_in(toys_owner).get(reverse("frontend:campaigns") + "?state=live").content.decode())
    assert "No campaign in this state." in empty
    bogus = signed_in(toys_owner).get(reverse("frontend:campaigns") + "?state=<x>&page=zz")
    assert bogus.status_code == 200


def test_the_accepted_proposal_links_to_its_campaign(campaign, coffee_owner):
    html = signed_in(coffee_owner).get(reverse("frontend:proposal", args=[campaign.proposal_id])).content.decode()
    assert reverse("frontend:campaign", args=[campaign.pk]) in html


def test_the_nav_links_to_campaigns(campaign, coffee_owner):
    html = signed_in(coffee_owner).get(reverse("frontend:dashboard")).content.decode()
    assert f'href="{reverse("frontend:campaigns")}"' in html


def test_list_query_count_does_not_grow_with_campaigns(running, coffee_owner):
    browser = signed_in(coffee_owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert browser.get(reverse("frontend:campaigns")).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request of a session reads what later ones have cached
    one = count()
    from tests.api.test_campaigns_api import _campaign_with_a_new_partner

    wecom = running.brand_a.channels.get(label="会员企微")
    for _ in range(3):
        _campaign_with_a_new_partner(running.brand_a, coffee_owner, wecom)
    assert count() == one


def test_an_id_beyond_the_database_range_is_a_404_not_a_server_error(campaign, coffee_owner):
    browser = signed_in(coffee_owner)
    browser.raise_request_exception = False
    assert browser.get("/campaigns/99999999999999999999999/").status_code == 404
