"""The Django admin for platform admins: status changes go through brand_transition (with a
reason page), everything is audited, secrets are never shown."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from partners import services
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent, Brand, BrandStatus, CompetitionRule, Membership, Role
from tests.factories import BrandFactory, UserFactory, category

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:partners_brand_changelist")


@pytest.fixture
def pending_brands(db):
    return [BrandFactory(status=BrandStatus.PENDING) for _ in range(2)]


def run_action(client, action, brands, **extra):
    data = {"action": f"{action}_selected", ACTION_CHECKBOX_NAME: [b.pk for b in brands], **extra}
    return client.post(CHANGELIST, data)


def test_approve_action_asks_first_then_goes_through_the_service(admin_client_, admin_user, pending_brands):
    page = run_action(admin_client_, "approve", pending_brands)
    assert page.status_code == 200 and 'name="confirm"' in page.content.decode()
    assert set(Brand.objects.values_list("status", flat=True)) == {BrandStatus.PENDING}

    done = run_action(admin_client_, "approve", pending_brands, confirm="1", reason="")
    assert done.status_code == 302
    assert set(Brand.objects.values_list("status", flat=True)) == {BrandStatus.APPROVED}
    events = AuditEvent.objects.filter(action=AuditAction.BRAND_APPROVED)
    assert events.count() == 2 and {e.actor for e in events} == {admin_user}


def test_reject_action_without_a_reason_is_refused_and_changes_nothing(admin_client_, pending_brands):
    admin_client_.cookies.load({"django_language": "en"})
    response = run_action(admin_client_, "reject", pending_brands, confirm="1", reason=" ")
    assert response.status_code == 200
    assert "A reason is required." in response.content.decode()
    assert set(Brand.objects.values_list("status", flat=True)) == {BrandStatus.PENDING}
    assert not AuditEvent.objects.exists()


def test_reject_action_with_a_reason_records_it(admin_client_, pending_brands):
    run_action(admin_client_, "reject", pending_brands[:1], confirm="1", reason="营业执照不清晰")
    brand = Brand.objects.get(pk=pending_brands[0].pk)
    assert (brand.status, brand.status_reason) == (BrandStatus.REJECTED, "营业执照不清晰")
    assert AuditEvent.objects.get(action=AuditAction.BRAND_REJECTED).reason == "营业执照不清晰"
    assert Brand.objects.get(pk=pending_brands[1].pk).status == BrandStatus.PENDING


def test_action_on_a_brand_in_the_wrong_status_reports_it_and_changes_nothing(admin_client_, brand):
    admin_client_.cookies.load({"django_language": "en"})
    response = run_action(admin_client_, "reinstate", [brand], confirm="1")
    followed = admin_client_.get(response["Location"])
    assert "“Reinstate” is not possible for a brand that is Approved." in followed.content.decode()
    brand.refresh_from_db()
    assert brand.status == BrandStatus.APPROVED


def test_status_cannot_be_edited_in_the_change_form(admin_client_, brand):
    url = reverse("admin:partners_brand_change", args=[brand.pk])
    form_html = admin_client_.get(url).content.decode()
    assert 'name="status"' not in form_html
    data = {
        "name": "瑞幸",
        "name_en": brand.name_en,
        "category": brand.category.pk,
        "legal_name": "",
        "credit_code": brand.credit_code,
        "website": "",
        "price_tier": "3",
        "tone_tags": ["young"],
        "description": "",
        "store_count": "0",
        "status": "rejected",
        # empty inline management forms
        **{
            f"{p}-{k}": v
            for p in ("channels", "memberships", "audit_events")
            for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "0"))
        },
    }
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    brand.refresh_from_db()
    assert (brand.name, brand.status) == ("瑞幸", BrandStatus.APPROVED)
    changed = AuditEvent.objects.get(action="brand.updated").data["fields"]
    assert "name" in changed and "status" not in changed


def _change_data(brand, **overrides):
    data = {
        "name": brand.name,
        "name_en": brand.name_en,
        "category": brand.category.pk,
        "legal_name": brand.legal_name,
        "credit_code": brand.credit_code,
        "website": "",
        "price_tier": str(brand.price_tier),
        "tone_tags": [],
        "description": "",
        "store_count": "0",
        **{
            f"{p}-{k}": v
            for p in ("channels", "memberships", "audit_events")
            for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "0"))
        },
    }
    return {**data, **overrides}


def test_a_profile_correction_is_recorded_by_brand_update(
    admin_client_, admin_user, brand, django_capture_on_commit_callbacks
):
    from partners.signals import brand_changed

    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    brand_changed.connect(receiver, weak=False)
    url = reverse("admin:partners_brand_change", args=[brand.pk])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client_.post(url, _change_data(brand, category=category("beverage.tea_drinks").pk))
    finally:
        brand_changed.disconnect(receiver)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action=AuditAction.BRAND_UPDATED)
    assert event.actor == admin_user and event.brand == brand
    # What brand_update records: the fields that changed, and a category change's codes.
    assert event.data["category"] == {"from": "beverage.coffee", "to": "beverage.tea_drinks"}
    assert "category" in event.data["fields"]
    assert [s["change"] for s in seen if s["brand_id"] == brand.pk] == ["profile"]


def test_the_service_rules_show_on_the_change_form(admin_client_, brand):
    url = reverse("admin:partners_brand_change", args=[brand.pk])
    admin_client_.cookies.load({"django_language": "en"})
    response = admin_client_.post(url, _change_data(brand, credit_code=""))
    assert response.status_code == 200
    assert "The credit code cannot be removed." in response.content.decode()
    credit_code = brand.credit_code
    brand.refresh_from_db()
    assert brand.credit_code == credit_code
    assert not AuditEvent.objects.exists()


def test_change_form_runs_the_shared_validators(admin_client_, brand):
    url = reverse("admin:partners_brand_change", args=[brand.pk])
    data = {
        "name": brand.name,
        "name_en": "",
        "category": category("beverage").pk,
        "legal_name": "",
        "credit_code": "91310000000000000X",
        "website": "",
        "price_tier": "7",
        "tone_tags": [],
        "description": "",
        "audience_gender_female": "90",
        "store_count": "0",
        **{
            f"{p}-{k}": v
            for p in ("channels", "memberships", "audit_events")
            for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "0"))
        },
    }
    admin_client_.cookies.load({"django_language": "en"})
    response = admin_client_.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "is a category group; choose one of its leaves." in html
    assert "check digit is wrong" in html
    assert "price tier must be from 1 (mass) to 5 (luxury)" in html
    assert "gender shares must sum to 1" in html
    brand.refresh_from_db()
    assert brand.category.code == "beverage.coffee"


def test_brand_page_shows_its_history_read_only(admin_client_, admin_user, brand):
    services.brand_transition(actor=Actor(user=admin_user), brand=brand, action="suspend", reason="投诉核实中")
    html = admin_client_.get(reverse("admin:partners_brand_change", args=[brand.pk])).content.decode()
    assert "投诉核实中" in html
    assert 'name="audit_events-0-reason"' not in html  # shown, not editable


def test_api_key_admin_never_shows_the_hash(admin_client_, owner, brand):
    key, raw = services.api_key_create(actor=Actor(user=owner), brand=brand, name="CRM", scopes=["read"])
    for url in (reverse("admin:partners_apikey_changelist"), reverse("admin:partners_apikey_change", args=[key.pk])):
        html = admin_client_.get(url).content.decode()
        assert key.prefix in html
        assert key.key_hash not in html and raw.split("_", 2)[2] not in html
    assert admin_client_.get(reverse("admin:partners_apikey_add")).status_code == 403


def test_api_key_revoke_action_goes_through_the_service(admin_client_, owner, brand):
    key, _raw = services.api_key_create(actor=Actor(user=owner), brand=brand, name="CRM", scopes=["read"])
    admin_client_.post(
        reverse("admin:partners_apikey_changelist"), {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [key.pk]}
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_competition_rule_created_in_admin_is_ordered_and_audited(admin_client_):
    a, b = category("toys.collectibles"), category("beverage.coffee")
    response = admin_client_.post(
        reverse("admin:partners_competitionrule_add"), {"category_a": a.pk, "category_b": b.pk, "note": "IP 联名冲突"}
    )
    assert response.status_code == 302
    rule = CompetitionRule.objects.get()
    assert (rule.category_a.code, rule.category_b.code) == ("beverage.coffee", "toys.collectibles")
    assert AuditEvent.objects.filter(action="competition_rule.created").count() == 1


def test_competition_rules_deleted_in_admin_are_audited(admin_client_, admin_user):
    first = services.competition_rule_create(actor=Actor(user=admin_user), category_a="beverage", category_b="toys")
    second = services.competition_rule_create(actor=Actor(user=admin_user), category_a="food", category_b="pets")
    third = services.competition_rule_create(actor=Actor(user=admin_user), category_a="food", category_b="toys")
    response = admin_client_.post(reverse("admin:partners_competitionrule_delete", args=[first.pk]), {"post": "yes"})
    assert response.status_code == 302
    response = admin_client_.post(
        reverse("admin:partners_competitionrule_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [second.pk, third.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not CompetitionRule.objects.exists()
    deleted = AuditEvent.objects.filter(action=AuditAction.COMPETITION_RULE_DELETED)
    assert sorted((e.data["a"], e.data["b"]) for e in deleted) == [
        ("beverage", "toys"),
        ("food", "pets"),
        ("food", "toys"),
    ]


def test_memberships_added_or_changed_in_admin_go_through_the_service(admin_client_, admin_user, brand):
    person = UserFactory()
    response = admin_client_.post(
        reverse("admin:partners_membership_add"),
        {
            "user": person.pk,
            "brand": brand.pk,
            "role": Role.VIEWER,
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    membership = Membership.objects.get(user=person)
    change_url = reverse("admin:partners_membership_change", args=[membership.pk])
    assert 'name="user"' not in admin_client_.get(change_url).content.decode()  # only the role changes
    assert admin_client_.post(change_url, {"role": Role.MARKETER}).status_code == 302
    membership.refresh_from_db()
    assert (membership.user, membership.brand, membership.role) == (person, brand, Role.MARKETER)
    events = AuditEvent.objects.filter(action=AuditAction.MEMBERSHIP_SET).order_by("id")
    assert [(e.actor, e.brand, e.data["role"]) for e in events] == [
        (admin_user, brand, Role.VIEWER),
        (admin_user, brand, Role.MARKETER),
    ]


def test_audit_events_are_read_only(admin_client_, admin_user, brand):
    services.brand_transition(actor=Actor(user=admin_user), brand=brand, action="suspend", reason="x")
    event = AuditEvent.objects.get()
    assert admin_client_.get(reverse("admin:partners_auditevent_add")).status_code == 403
    admin_client_.post(reverse("admin:partners_auditevent_change", args=[event.pk]), {"reason": "changed"})
    event.refresh_from_db()
    assert event.reason == "x"
    assert (
        admin_client_.post(reverse("admin:partners_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )


def test_brands_cannot_be_added_in_admin(admin_client_):
    assert admin_client_.get(reverse("admin:partners_brand_add")).status_code == 403


def test_non_staff_cannot_reach_the_admin(owner_client):
    assert owner_client.get(CHANGELIST).status_code == 302


def test_a_change_in_the_admin_refreshes_the_brands_recommendations(
    admin_client_, brand, django_capture_on_commit_callbacks
):
    from partners.signals import brand_changed

    seen = []

    def receiver(sender, brand_id, change, **kwargs):
        seen.append((brand_id, change))

    url = reverse("admin:partners_brand_change", args=[brand.pk])
    data = {
        "name": "瑞幸",
        "name_en": brand.name_en,
        "category": brand.category.pk,
        "legal_name": "",
        "credit_code": brand.credit_code,
        "website": "",
        "price_tier": "4",
        "tone_tags": ["young"],
        "description": "",
        "store_count": "0",
        **{
            f"{p}-{k}": v
            for p in ("channels", "memberships", "audit_events")
            for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "0"))
        },
    }
    brand_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client_.post(url, data)
    finally:
        brand_changed.disconnect(receiver)
    assert response.status_code == 302
    assert (brand.pk, "profile") in seen
