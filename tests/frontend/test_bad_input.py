"""Bad input on the web pages — in query strings and posted forms — is refused with a clear
message on the page (or a plain 404 where the value names a page), never an HTTP 500, and
changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from exchange.models import Proposal
from exchange.states import ProposalState
from partners.models import ApiKey, BrandStatus, Channel, User
from tests.factories import BrandFactory, ChannelFactory
from tests.frontend.conftest import errors_in
from tests.frontend.test_brand_pages import profile_post
from tests.frontend.test_proposals import new_url, row, signed_in

pytestmark = pytest.mark.django_db

# Characters int() reads but that are not ASCII digits: "²" (int() fails), "٣" (int() says 3).
ODD_DIGITS = ["²", "٣", "３"]


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)


# --- numbers and IDs ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [*ODD_DIGITS, "99999999999999999999999"])
def test_the_matcher_page_ignores_a_run_number_that_is_not_plain_digits(browser, admin_user, value):
    browser.force_login(admin_user)
    response = browser.get(reverse("frontend:matcher"), {"run": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ODD_DIGITS)
def test_the_composer_refuses_odd_digits_in_a_channel_or_quantity(
    coffee_owner, coffee, toys, coffee_wecom, window, value
):
    amy = signed_in(coffee_owner)
    amy.raise_request_exception = False
    for fields in (
        {"pick": f"{value}:direct_message", "quantity": "20000"},
        {"pick": f"{coffee_wecom.pk}:direct_message", "quantity": value},
    ):
        data = {"partner": toys.slug, **row("mine-0", window, **fields), "send": "1"}
        response = amy.post(new_url(coffee, toys), data)
        assert response.status_code == 200, fields
        assert errors_in(response)
        preview = amy.post(reverse("frontend:proposal_new_preview", args=[coffee.slug]) + f"?partner={toys.slug}", data)
        assert preview.status_code == 200
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("value", ODD_DIGITS)
def test_accepting_with_odd_digits_as_the_revision_is_refused(toys_owner, proposed_swap, value):
    bo = signed_in(toys_owner)
    bo.raise_request_exception = False
    response = bo.post(reverse("frontend:proposal_accept", args=[proposed_swap.pk]), {"revision": value}, follow=True)
    assert response.status_code == 200
    assert errors_in(response)
    assert Proposal.objects.get().state == ProposalState.PROPOSED


@pytest.fixture
def proposed_swap(coffee, toys, coffee_actor, coffee_wecom, toys_wecom, place):
    from exchange import services

    return services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 20_000)]
    )


# --- control characters in query strings ------------------------------------------------------------
@pytest.mark.parametrize("param", ["q", "category"])
@pytest.mark.parametrize("value", ["\x00", "瑞幸\x00", "\x01"])
def test_the_marketplace_refuses_a_search_with_control_characters(browser, brand, param, value):
    response = browser.get(reverse("frontend:marketplace"), {param: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "control character" in errors_in(response)
    assert brand.name not in response.content.decode()  # no results for a refused search
    assert browser.get(reverse("frontend:marketplace"), {"q": "瑞幸"}).status_code == 200


@pytest.mark.parametrize("value", ["\x00", "tiny-toys\x00", "tiny toys"])
def test_the_composer_for_a_partner_slug_with_control_characters_is_404(coffee_owner, coffee, toys, value):
    amy = signed_in(coffee_owner)
    amy.raise_request_exception = False
    url = reverse("frontend:proposal_new", args=[coffee.slug])
    assert amy.get(url, {"partner": value}).status_code == 404
    assert amy.post(url, {"partner": value}).status_code == 404


# --- control and invisible characters in posted forms ---------------------------------------------
@pytest.mark.parametrize("reason", ["a\x00b", "a\x07b"])
def test_a_review_reason_with_control_characters_is_refused(browser, admin_user, reason):
    brand = BrandFactory(status=BrandStatus.APPROVED)
    browser.force_login(admin_user)
    url = reverse("frontend:queue_transition", args=[brand.pk, "suspend"])
    response = browser.post(url, {"reason": reason}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "control character" in errors_in(response)
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED


@pytest.mark.parametrize(
    "name, expected",
    [("Luckin\u202egpj", "text-direction"), ("\u200b", "is required"), ("Luck\u200bin", "invisible")],
)
def test_the_profile_editor_refuses_invisible_and_bidi_characters_in_names(owner_client, brand, name, expected):
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(reverse("frontend:brand_edit", args=[brand.slug]), profile_post(brand, name=name))
    assert response.status_code == 200
    assert expected in errors_in(response)
    brand.refresh_from_db()
    assert brand.name == "瑞幸咖啡"


@pytest.mark.parametrize("label, expected", [("a\x00b", "control character"), ("渠" * 81, "80")])
def test_the_channel_editor_refuses_bad_labels_and_keeps_the_old_channels(owner_client, brand, label, expected):
    ChannelFactory(brand=brand, label="老渠道")
    owner_client.cookies.load({"django_language": "en"})
    response = owner_client.post(
        reverse("frontend:brand_channels", args=[brand.slug]),
        {"channel_type": ["wecom"], "channel_label": [label], "channel_size": ["100"], "channel_active_rate": ["30"]},
    )
    assert response.status_code == 200
    assert expected in errors_in(response)
    assert list(Channel.objects.filter(brand=brand).values_list("label", flat=True)) == ["老渠道"]


@pytest.mark.parametrize("name", ["\u200b", "CRM\u202e", "a\u2066b"])
def test_an_api_key_name_with_invisible_characters_is_refused(owner_client, brand, name):
    response = owner_client.post(reverse("frontend:api_keys", args=[brand.slug]), {"name": name, "scopes": ["read"]})
    assert response.status_code == 200
    assert errors_in(response)
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("display_name", ["Mei\u202e", "\u200bMei", "Mei\u2028Li"])
def test_signup_refuses_a_display_name_with_invisible_characters(client, display_name):
    response = client.post(
        reverse("frontend:signup"),
        {"email": "mei@example.com", "password": "Tide-Pool-Lantern-42", "display_name": display_name},
    )
    assert response.status_code == 200
    assert errors_in(response)
    assert not User.objects.filter(username="mei@example.com").exists()


def test_the_composer_refuses_an_ask_note_over_200_characters_instead_of_cutting_it(
    coffee_owner, coffee, toys, coffee_wecom, window
):
    amy = signed_in(coffee_owner)
    amy.cookies.load({"django_language": "en"})
    data = {
        "partner": toys.slug,
        **row("mine-0", window, pick=f"{coffee_wecom.pk}:direct_message", quantity="20000"),
        "ask-0-format": "direct_message",
        "ask-0-note": "n" * 201,
        "send": "1",
    }
    response = amy.post(new_url(coffee, toys), data)
    assert response.status_code == 200
    assert "200" in errors_in(response)
    assert not Proposal.objects.exists()


# --- the Django admin's change lists -----------------------------------------------------------------
def _changelist_params():
    """(changelist URL, query parameter) for every registered model: each field filter, each
    local field (the admin accepts lookups on them), each date-hierarchy part."""
    from django.contrib import admin

    out = []
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        names = {"q"}
        for spec in model_admin.list_filter:
            field = spec[0] if isinstance(spec, tuple) else spec
            if isinstance(field, str):
                names.add(f"{field}__exact")
        names |= {
            f.name
            for f in model._meta.concrete_fields
            if f.get_internal_type() in ("CharField", "TextField", "SlugField")
        }
        if model_admin.date_hierarchy:
            names |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        out += [(url, name) for name in sorted(names)]
    return out


@pytest.mark.parametrize("url, param", _changelist_params())
def test_admin_change_lists_answer_hostile_query_parameters_without_a_server_error(browser, admin_user, url, param):
    browser.force_login(admin_user)
    for value in ("\x00", "a\x00b", "99999999999999999999999", "²"):
        response = browser.get(url, {param: value})
        assert response.status_code < 500, (url, param, value)
    assert browser.get(url).status_code == 200
