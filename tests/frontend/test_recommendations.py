"""The recommended-partners page: member-only, explained cards, filters, dismissal by editors."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching import services
from matching.models import Dismissal, Recommendation
from partners.models import BrandStatus, Role
from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, make_brand

# The market and model are cached per process; the DB under them is rolled back.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_matching_state")]

AUDIENCE = {
    "gender": {"female": 0.7, "male": 0.3},
    "age": {"18-24": 0.3, "25-34": 0.5, "35-44": 0.1, "45+": 0.1},
    "regions": ["CN-SH", "CN-BJ"],
}


@pytest.fixture
def me(brand):
    """The owner's coffee brand with a real scale and audience."""
    brand.active_audience, brand.audience, brand.tone_tags = 120_000, AUDIENCE, ["young", "urban"]
    brand.save()
    ChannelFactory(brand=brand, size=400_000, active_rate=0.3)
    return brand


@pytest.fixture
def partners(me):
    """Four non-competing partners (and one competitor, which must never show)."""
    found = {
        "bakery": make_brand("sunny-bakery", "food.bakery", scale=96_000, audience={**AUDIENCE, "regions": ["CN-SH"]}),
        "snacks": make_brand(
            "crunch-snacks", "food.snacks", scale=110_000, audience={**AUDIENCE, "regions": ["CN-GD"]}
        ),
        "fitness": make_brand("move-fitness", "fitness", scale=2_000_000, audience={**AUDIENCE, "regions": ["CN-BJ"]}),
        "pets": make_brand("paw-pets", "pets", scale=5_000, audience={**AUDIENCE, "regions": ["CN-ZJ"]}),
        "rival": make_brand("rival-coffee", "beverage.coffee", scale=120_000),
    }
    services.recommendations_refresh_brand(brand_id=me.pk)
    return found


def page_url(brand, **params) -> str:
    return reverse("frontend:recommendations", args=[brand.slug])


def dismiss_url(brand, partner) -> str:
    return reverse("frontend:recommendation_dismiss", args=[brand.slug, partner.pk])


def cards(html: str) -> list[str]:
    return re.findall(r'class="card rec-card" data-partner="([^"]+)"', html)


# --- Who may see it ----------------------------------------------------------------------------
def test_owner_sees_partner_cards_with_score_bars_and_chinese_reasons(owner_client, me, partners):
    html = owner_client.get(page_url(me)).content.decode()
    shown = cards(html)
    assert set(shown) == {"sunny-bakery", "crunch-snacks", "move-fitness", "paw-pets"}
    assert "rival-coffee" not in html  # a competitor (same leaf) is never recommended
    bakery = Recommendation.objects.get(brand=me, partner=partners["bakery"])
    for reason in bakery.reasons_zh:
        assert reason in html
    for key in ("scale", "positioning", "audience", "category"):
        assert f"bar-row-{key}" in html
    assert "面包烘焙" in html or "烘焙" in html  # the partner's category, in Chinese
    assert "上海" in html  # the partner's regions


def test_reasons_follow_the_page_language(client, owner, me, partners):
    client.force_login(owner)
    html = client.get(page_url(me), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    bakery = Recommendation.objects.get(brand=me, partner=partners["bakery"])
    assert all(reason in html for reason in bakery.reasons_en)
    assert not any(reason in html for reason in bakery.reasons_zh)
    assert "Recommended partners" in html and "Scale fit" in html


def test_another_brands_member_gets_404_and_cannot_dismiss(client, other_owner, me, partners):
    client.force_login(other_owner)
    assert client.get(page_url(me)).status_code == 404
    assert client.post(dismiss_url(me, partners["bakery"])).status_code == 404
    assert not Dismissal.objects.exists()
    assert Recommendation.objects.filter(brand=me, partner=partners["bakery"]).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, me, partners):
    assert client.get(page_url(me))["Location"].startswith(reverse("frontend:login"))
    assert client.post(dismiss_url(me, partners["bakery"]))["Location"].startswith(reverse("frontend:login"))
    assert not Dismissal.objects.exists()


def test_propose_a_swap_opens_the_composer_for_each_partner(owner_client, me, partners):
    html = owner_client.get(page_url(me)).content.decode()
    links = re.findall(r'<a class="btn btn-primary btn-sm" href="([^"]+)" data-propose>发起置换</a>', html)
    new = reverse("frontend:proposal_new", args=[me.slug])
    assert sorted(links) == sorted(f"{new}?partner={p.slug}" for k, p in partners.items() if k != "rival")
    assert not re.findall(r"<button[^>]*>发起置换</button>", html)


def test_propose_a_swap_is_disabled_for_a_viewer(client, me, partners, viewer):
    client.force_login(viewer)
    html = client.get(page_url(me)).content.decode()
    buttons = re.findall(r"<button[^>]*>发起置换</button>", html)
    assert len(buttons) == 4 and all("disabled" in b for b in buttons)
    assert "data-propose" not in html


# --- Dismiss ------------------------------------------------------------------------------------
def test_owner_dismisses_a_partner_and_it_stays_gone_after_refreshes(
    owner_client, me, partners, django_capture_on_commit_callbacks
):
    bakery = partners["bakery"]
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(dismiss_url(me, bakery), {"back": "region=CN-SH&page=1&next=//evil.example"})
    assert response.status_code == 302
    assert response["Location"] == page_url(me) + "?region=CN-SH&page=1"  # back to the same filters and page
    assert Dismissal.objects.filter(brand=me, partner=bakery).exists()
    html = owner_client.get(page_url(me)).content.decode()
    assert "sunny-bakery" not in cards(html)
    assert "不会再向" in html  # the confirmation
    services.recommendations_refresh_all()
    assert "sunny-bakery" not in cards(owner_client.get(page_url(me)).content.decode())


def test_marketer_may_dismiss(client, me, partners, marketer):
    client.force_login(marketer)
    assert 'class="inline dismiss-form"' in client.get(page_url(me)).content.decode()
    assert client.post(dismiss_url(me, partners["snacks"])).status_code == 302
    assert Dismissal.objects.filter(brand=me, partner=partners["snacks"], dismissed_by=marketer).exists()


def test_viewer_sees_no_dismiss_button_and_their_post_is_refused(client, me, partners, viewer):
    client.force_login(viewer)
    html = client.get(page_url(me)).content.decode()
    assert len(cards(html)) == 4
    assert "dismiss-form" not in html
    assert client.post(dismiss_url(me, partners["bakery"])).status_code == 403
    assert not Dismissal.objects.exists()
    assert Recommendation.objects.filter(brand=me, partner=partners["bakery"]).exists()


def test_dismiss_is_post_only(owner_client, me, partners):
    assert owner_client.get(dismiss_url(me, partners["bakery"])).status_code == 405
    assert not Dismissal.objects.exists()


def test_dismissing_a_brand_you_cannot_see_is_404(owner_client, me, partners):
    hidden = BrandFactory(status=BrandStatus.PENDING)
    assert owner_client.post(dismiss_url(me, hidden)).status_code == 404
    assert owner_client.post(reverse("frontend:recommendation_dismiss", args=[me.slug, 999_999])).status_code == 404
    assert not Dismissal.objects.exists()


def test_dismissing_your_own_brand_is_refused_with_a_message(owner_client, me, partners):
    response = owner_client.post(dismiss_url(me, me), follow=True)
    assert "品牌不能忽略自己。" in response.content.decode()
    assert not Dismissal.objects.exists()


# --- Filters and pages --------------------------------------------------------------------------
def test_category_filter(owner_client, me, partners):
    assert cards(owner_client.get(page_url(me), {"category": "food.bakery"}).content.decode()) == ["sunny-bakery"]
    # A group includes its leaves.
    assert set(cards(owner_client.get(page_url(me), {"category": "food"}).content.decode())) == {
        "sunny-bakery",
        "crunch-snacks",
    }


def test_scale_range_filter(owner_client, me, partners):
    html = owner_client.get(page_url(me), {"scale_min": "50000", "scale_max": "500000"}).content.decode()
    assert set(cards(html)) == {"sunny-bakery", "crunch-snacks"}
    assert set(cards(owner_client.get(page_url(me), {"scale_min": "1000000"}).content.decode())) == {"move-fitness"}


def test_region_filter(owner_client, me, partners):
    assert set(cards(owner_client.get(page_url(me), {"region": "CN-BJ"}).content.decode())) == {"move-fitness"}


def test_bad_filters_are_explained_and_not_applied(owner_client, me, partners):
    html = owner_client.get(page_url(me), {"scale_min": "500000", "scale_max": "1000"}).content.decode()
    assert "上限不能低于下限。" in html
    assert len(cards(html)) == 4
    html = owner_client.get(page_url(me), {"region": "CN-XX", "scale_min": "-5"}).content.decode()
    assert 'class="alert alert-error"' in html
    assert len(cards(html)) == 4


def test_filters_with_no_match_say_so(owner_client, me, partners):
    html = owner_client.get(page_url(me), {"region": "CN-XJ"}).content.decode()
    assert cards(html) == []
    assert "没有符合筛选条件的推荐伙伴。" in html


def test_pages_of_ten_keep_the_filters(owner_client, me):
    for i in range(13):
        make_brand(f"bakery-{i:02d}", "food.bakery", scale=100_000 + i)
    services.recommendations_refresh_brand(brand_id=me.pk)
    first = owner_client.get(page_url(me), {"category": "food.bakery"}).content.decode()
    assert len(cards(first)) == 10
    assert "?page=2&amp;category=food.bakery" in first
    second = owner_client.get(page_url(me), {"category": "food.bakery", "page": "2"}).content.decode()
    assert len(cards(second)) == 3
    assert not set(cards(first)) & set(cards(second))


# --- Brands without recommendations -------------------------------------------------------------
def test_pending_brand_gets_an_explanation_instead_of_recommendations(client, partners):
    pending = BrandFactory(status=BrandStatus.PENDING, slug="new-tea")
    user = MembershipFactory(brand=pending, role=Role.OWNER, user=UserFactory()).user
    Recommendation.objects.create(brand=pending, partner=partners["bakery"], rank=1, score=0.9)  # stale row
    client.force_login(user)
    html = client.get(page_url(pending)).content.decode()
    assert 'id="not-approved"' in html
    assert "只有已通过审核的品牌" in html
    assert cards(html) == []


def test_approved_brand_without_recommendations_sees_when_they_come(owner_client, me):
    html = owner_client.get(page_url(me)).content.decode()
    assert 'id="no-recommendations"' in html
    assert "每晚" in html


def test_nav_entry_goes_straight_to_a_single_brands_page(owner_client, me):
    response = owner_client.get(reverse("frontend:recommendations_pick"))
    assert response.status_code == 302 and response["Location"] == page_url(me)


def test_nav_entry_lets_a_member_of_several_brands_choose(client, owner, me, other_brand):
    MembershipFactory(brand=other_brand, role=Role.VIEWER, user=owner)
    client.force_login(owner)
    html = client.get(reverse("frontend:recommendations_pick")).content.decode()
    assert page_url(me) in html and page_url(other_brand) in html


def test_brand_dashboard_links_to_recommended_partners(owner_client, me):
    html = owner_client.get(reverse("frontend:brand_detail", args=[me.slug])).content.decode()
    assert page_url(me) in html


def test_page_query_count_does_not_grow_with_the_list(owner_client, me):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert owner_client.get(page_url(me)).status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        make_brand(f"few-{i}", "food.bakery")
    services.recommendations_refresh_brand(brand_id=me.pk)
    few = queries_for_page()
    for i in range(8):
        make_brand(f"many-{i}", ("pets", "fitness", "food.snacks")[i % 3])
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert Recommendation.objects.filter(brand=me).count() == 10
    assert queries_for_page() == few


# --- Dismissed partners and undo ---------------------------------------------------------------
def undismiss_url(brand, partner) -> str:
    return reverse("frontend:recommendation_undismiss", args=[brand.slug, partner.pk])


def dismissed_section(html: str) -> str:
    return html[html.index('id="dismissed"') :] if 'id="dismissed"' in html else ""


def test_the_page_lists_dismissed_partners_with_an_undo_button(owner_client, me, partners):
    owner_client.cookies.load({"django_language": "en"})
    assert 'id="dismissed"' not in owner_client.get(page_url(me)).content.decode()
    owner_client.post(dismiss_url(me, partners["bakery"]))
    html = owner_client.get(page_url(me)).content.decode()
    section = dismissed_section(html)
    assert "Dismissed partners" in section and partners["bakery"].name_en in section
    assert f'action="{undismiss_url(me, partners["bakery"])}"' in section


def test_undo_brings_the_partner_back_after_the_refresh(owner_client, me, partners, django_capture_on_commit_callbacks):
    bakery = partners["bakery"]
    owner_client.post(dismiss_url(me, bakery))
    with django_capture_on_commit_callbacks(execute=True):  # the refresh runs on commit (eager Celery)
        response = owner_client.post(undismiss_url(me, bakery), {"back": "page=1"})
    assert response["Location"] == page_url(me) + "?page=1"
    assert not Dismissal.objects.exists()
    html = owner_client.get(page_url(me)).content.decode()
    assert "sunny-bakery" in cards(html) and 'id="dismissed"' not in html


def test_a_viewer_sees_the_dismissed_list_without_undo_and_cannot_undo(client, me, partners, viewer, owner):
    from partners.actors import Actor

    services.recommendation_dismiss(actor=Actor(user=owner), brand=me, partner=partners["pets"])
    client.force_login(viewer)
    html = client.get(page_url(me)).content.decode()
    assert partners["pets"].name in dismissed_section(html)
    assert "undismiss" not in html
    assert client.post(undismiss_url(me, partners["pets"])).status_code == 403
    assert Dismissal.objects.count() == 1


def test_another_brands_member_cannot_undo(client, other_owner, me, partners, owner):
    from partners.actors import Actor

    services.recommendation_dismiss(actor=Actor(user=owner), brand=me, partner=partners["pets"])
    client.force_login(other_owner)
    assert client.post(undismiss_url(me, partners["pets"])).status_code == 404
    assert client.get(undismiss_url(me, partners["pets"])).status_code in (404, 405)
    assert Dismissal.objects.count() == 1


def test_an_exploration_slot_is_marked_new_with_its_reason(owner_client, me, partners):
    from matching.models import Recommendation, SlotType

    rec = Recommendation.objects.filter(brand=me).order_by("rank").last()
    Recommendation.objects.filter(pk=rec.pk).update(
        slot=SlotType.EXPLORE,
        reasons_zh=["新发现：与它置换过的品牌还不多，调性与规模都在合理范围，值得一试", *rec.reasons_zh[:2]],
    )
    html = owner_client.get(page_url(me)).content.decode()
    articles = html.split('<article class="card rec-card"')[1:]
    marked = [c for c in articles if 'data-slot="explore"' in c]
    assert len(marked) == 1 and f'data-partner="{rec.partner.slug}"' in marked[0]
    assert "新发现" in marked[0] and "与它置换过的品牌还不多" in marked[0]
