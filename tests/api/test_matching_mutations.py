"""dismissRecommendation by role and key scope; refusals write nothing; the dismissed partner
leaves the list for good."""

from __future__ import annotations

import pytest

from matching.models import Dismissal, Recommendation
from partners.models import BrandStatus, Role
from tests.api.conftest import gid, session
from tests.factories import BrandFactory, MembershipFactory, UserFactory, make_partners, recommend

DISMISS = """mutation($b: ID!, $p: ID!) {
  dismissRecommendation(brand: $b, partner: $p) {
    dismissedPartnerId partner { id slug name } errors { field code message }
  }
}"""
LIST = "{ recommendations(first: 50) { edges { node { partner { slug } } } } }"


@pytest.fixture
def partners(brand):
    return make_partners(3)


@pytest.fixture
def recs(brand, partners):
    return recommend(brand, partners)


def _vars(brand, partner) -> dict:
    return {"b": gid("Brand", brand.pk), "p": gid("Brand", partner.pk)}


def _listed(client) -> list[str]:
    return [e["node"]["partner"]["slug"] for e in client(LIST)["recommendations"]["edges"]]


def _refused(client, variables, code: str, field: str | None = None) -> None:
    before = (Dismissal.objects.count(), Recommendation.objects.count())
    payload = client(DISMISS, variables)["dismissRecommendation"]
    assert payload["dismissedPartnerId"] is None and payload["partner"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]][:1] == [(code, field)], payload["errors"]
    assert (Dismissal.objects.count(), Recommendation.objects.count()) == before


def test_owner_dismisses_and_the_partner_leaves_the_list(
    as_owner, brand, partners, recs, django_capture_on_commit_callbacks
):
    assert "partner-1" in _listed(as_owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = as_owner(DISMISS, _vars(brand, partners[1]))["dismissRecommendation"]
    assert payload == {
        "dismissedPartnerId": gid("Brand", partners[1].pk),
        "partner": {"id": gid("Brand", partners[1].pk), "slug": "partner-1", "name": partners[1].name},
        "errors": [],
    }
    assert Dismissal.objects.filter(brand=brand, partner=partners[1]).exists()
    assert _listed(as_owner) == ["partner-0", "partner-2"]
    assert len(callbacks) == 1  # the brand's list is refilled by a refresh after commit


def test_dismissed_partner_stays_out_even_if_a_refresh_writes_it_again(as_owner, brand, partners, recs):
    as_owner(DISMISS, _vars(brand, partners[0]))
    Recommendation.objects.create(
        brand=brand, partner=partners[0], rank=9, score=0.99, components={}, reasons_zh=["x"], reasons_en=["x"]
    )
    assert "partner-0" not in _listed(as_owner)


def test_dismiss_is_idempotent(as_owner, brand, partners, recs):
    for _ in range(2):
        assert as_owner(DISMISS, _vars(brand, partners[0]))["dismissRecommendation"]["errors"] == []
    assert Dismissal.objects.filter(brand=brand).count() == 1


def test_marketer_may_dismiss(brand, partners, recs):
    marketer = MembershipFactory(brand=brand, role=Role.MARKETER, user=UserFactory()).user
    assert session(marketer)(DISMISS, _vars(brand, partners[0]))["dismissRecommendation"]["errors"] == []
    assert Dismissal.objects.filter(brand=brand, partner=partners[0]).exists()


def test_viewer_is_refused(brand, partners, recs):
    viewer = MembershipFactory(brand=brand, role=Role.VIEWER, user=UserFactory()).user
    _refused(session(viewer), _vars(brand, partners[0]), "permission_denied")
    assert "partner-0" in _listed(session(viewer))


def test_write_key_may_dismiss(as_write_key, brand, partners, recs):
    assert as_write_key(DISMISS, _vars(brand, partners[2]))["dismissRecommendation"]["errors"] == []
    assert "partner-2" not in _listed(as_write_key)


def test_read_key_is_refused(as_read_key, brand, partners, recs):
    _refused(as_read_key, _vars(brand, partners[0]), "read_only_key")


def test_another_brands_owner_is_refused(as_other, brand, partners, recs):
    _refused(as_other, _vars(brand, partners[0]), "permission_denied")


def test_anonymous_is_refused(anon, brand, partners, recs):
    _refused(anon, _vars(brand, partners[0]), "unauthenticated")


def test_admin_may_dismiss_for_a_brand(as_admin, brand, partners, recs):
    assert as_admin(DISMISS, _vars(brand, partners[0]))["dismissRecommendation"]["errors"] == []
    assert Dismissal.objects.filter(brand=brand, partner=partners[0]).exists()


def test_wrong_id_types_are_refused_naming_the_field(as_owner, brand, partners, recs):
    _refused(as_owner, {"b": gid("Channel", brand.pk), "p": gid("Brand", partners[0].pk)}, "invalid_id", "brand")
    _refused(as_owner, {"b": gid("Brand", brand.pk), "p": gid("Recommendation", recs[0].pk)}, "invalid_id", "partner")
    _refused(as_owner, {"b": gid("Brand", brand.pk), "p": "not-an-id"}, "invalid_id", "partner")


def test_unknown_or_hidden_partner_is_not_found(as_owner, brand, recs):
    _refused(as_owner, {"b": gid("Brand", brand.pk), "p": gid("Brand", 999_999)}, "not_found", "partner")
    pending = BrandFactory(status=BrandStatus.PENDING)
    _refused(as_owner, _vars(brand, pending), "not_found", "partner")


def test_unknown_brand_is_not_found(as_owner, partners, recs):
    _refused(as_owner, {"b": gid("Brand", 999_999), "p": gid("Brand", partners[0].pk)}, "not_found", "brand")


def test_dismissing_your_own_brand_is_refused(as_owner, brand, recs):
    _refused(as_owner, _vars(brand, brand), "self_pair", "partner")


def test_error_messages_follow_the_request_language(as_read_key, brand, partners, recs):
    zh = as_read_key(DISMISS, _vars(brand, partners[0]))["dismissRecommendation"]["errors"][0]["message"]
    en_payload = as_read_key(DISMISS, _vars(brand, partners[0]), HTTP_ACCEPT_LANGUAGE="en")["dismissRecommendation"]
    en = en_payload["errors"][0]["message"]
    assert zh != en and "read-only" in en


# --- undismissRecommendation -----------------------------------------------------------------------
UNDISMISS = """mutation($b: ID!, $p: ID!) {
  undismissRecommendation(brand: $b, partner: $p) { restoredPartnerId errors { field code message } }
}"""


def test_owner_undoes_a_dismissal(as_owner, brand, partners, recs, django_capture_on_commit_callbacks):
    as_owner(DISMISS, _vars(brand, partners[1]))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = as_owner(UNDISMISS, _vars(brand, partners[1]))["undismissRecommendation"]
    assert payload == {"restoredPartnerId": gid("Brand", partners[1].pk), "errors": []}
    assert not Dismissal.objects.exists()
    assert len(callbacks) == 1  # the brand's list is refilled by a refresh after commit


def test_undismiss_by_a_read_key_or_another_brand_is_refused(as_owner, as_read_key, as_other, brand, partners, recs):
    as_owner(DISMISS, _vars(brand, partners[0]))
    for client, code in ((as_read_key, "read_only_key"), (as_other, "permission_denied")):
        payload = client(UNDISMISS, _vars(brand, partners[0]))["undismissRecommendation"]
        assert payload["restoredPartnerId"] is None and payload["errors"][0]["code"] == code
    assert Dismissal.objects.count() == 1
