"""Bad input on the web pages — in query strings and posted forms — is refused with a clear
message on the page (or a plain 404 where the value names a page), never an HTTP 500, and
changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from exchange.models import Proposal
from exchange.states import ProposalState
from tests.frontend.conftest import errors_in
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
