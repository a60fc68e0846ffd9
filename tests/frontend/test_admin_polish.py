"""The Django admin speaks the platform's language and edits structured data as structure: every
model and field of the domain apps has a translatable name, categories show by name, tone tags
are a choice of the vocabulary, the audience is edited as shares per dimension, and staff can
deactivate an account (partners.User) without ever seeing a password hash."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils.functional import Promise

from partners.models import AuditAction, AuditEvent, Brand, User
from partners.reference import TONE_LABELS
from tests.factories import AdminFactory, BrandFactory, UserFactory, category

pytestmark = pytest.mark.django_db
DOMAIN_APPS = ("partners", "matching", "exchange")
INLINES = {
    f"{p}-{k}": v
    for p in ("channels", "memberships", "audit_events")
    for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "0"))
}


@pytest.fixture
def en_admin(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    return admin_client_


def _brand_post(brand, **overrides) -> dict:
    data = {
        "name": brand.name,
        "name_en": brand.name_en,
        "category": brand.category.pk,
        "legal_name": brand.legal_name,
        "credit_code": brand.credit_code,
        "website": "",
        "price_tier": str(brand.price_tier),
        "tone_tags": list(brand.tone_tags),
        "description": brand.description,
        "store_count": str(brand.store_count),
        "audience_gender_female": "60",
        "audience_gender_male": "40",
        "audience_regions": ["CN-SH"],
        **INLINES,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- names ------------------------------------------------------------------------------------
def test_every_model_and_field_of_the_domain_apps_has_a_translatable_name():
    untranslated = []
    for label in DOMAIN_APPS:
        config = apps.get_app_config(label)
        if not isinstance(config.verbose_name, Promise):
            untranslated.append(f"app {label}")
        for model in config.get_models():
            opts = model._meta
            for attr in ("verbose_name", "verbose_name_plural"):
                if attr not in opts.original_attrs or not isinstance(getattr(opts, attr), Promise):
                    untranslated.append(f"{opts.label}.Meta.{attr}")
            for field in opts.get_fields(include_parents=False):
                if field.auto_created or not field.concrete:
                    continue
                if not isinstance(field.verbose_name, Promise):
                    untranslated.append(f"{opts.label}.{field.name}")
    assert untranslated == []


def test_the_migrations_carry_every_model_change():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_audit_events_show_what_kind_of_object_they_concern(en_admin, admin_user):
    from partners.actors import Actor
    from partners.services import competition_rule_create

    competition_rule_create(actor=Actor(user=admin_user), category_a="food.bakery", category_b="food.snacks")
    html = en_admin.get(reverse("admin:partners_auditevent_changelist")).content.decode()
    assert '<td class="field-object_type_label">competition rule</td>' in html
    assert ">competitionrule<" not in html  # in the list and its filter


def test_admin_pages_show_human_names_not_field_names(en_admin, brand):
    index = en_admin.get(reverse("admin:index")).content.decode()
    assert "Huiliu platform admin" in index and "Django administration" not in index
    assert "API keys" in index and "Api keys" not in index
    assert "Competition rules" in index and "Audit events" in index
    rule_form = en_admin.get(reverse("admin:partners_competitionrule_add")).content.decode()
    assert "Category a" not in rule_form and "Category b" not in rule_form
    # categories by name (and code), in the reader's language
    assert "Coffee (beverage.coffee)" in rule_form
    brands = en_admin.get(reverse("admin:partners_brand_changelist")).content.decode()
    assert "Coffee (beverage.coffee)" in brands


def test_api_key_scopes_show_as_labels(en_admin, owner, brand):
    from partners.actors import Actor
    from partners.services import api_key_create

    api_key_create(actor=Actor(user=owner), brand=brand, name="CRM", scopes=["read", "write"])
    html = en_admin.get(reverse("admin:partners_apikey_changelist")).content.decode()
    assert "Read, Write" in html and "[&#x27;read&#x27;" not in html and "['read'" not in html


# --- structured widgets -------------------------------------------------------------------------
def test_tone_tags_are_a_choice_of_the_vocabulary_and_keep_a_custom_tag(en_admin, brand):
    Brand.objects.filter(pk=brand.pk).update(tone_tags=["young", "moonlight"])
    url = reverse("admin:partners_brand_change", args=[brand.pk])
    html = en_admin.get(url).content.decode()
    for key in TONE_LABELS:
        assert f'name="tone_tags" value="{key}"' in html, key
    assert 'value="moonlight"' in html  # a tag outside the vocabulary stays selectable
    assert '"young"' not in html.split('name="tone_tags"')[0][-200:]  # not a JSON text box
    response = en_admin.post(url, _brand_post(brand, tone_tags=["premium", "young", "moonlight"]))
    assert response.status_code == 302, response.content.decode()[:2000]
    brand.refresh_from_db()
    assert sorted(brand.tone_tags) == ["moonlight", "premium", "young"]
    response = en_admin.post(url, _brand_post(brand, tone_tags=["not-a-choice"]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_audience_is_edited_as_shares_per_dimension(en_admin, brand):
    url = reverse("admin:partners_brand_change", args=[brand.pk])
    html = en_admin.get(url).content.decode()
    assert 'name="audience_gender_female"' in html and 'value="60"' in html
    assert 'name="audience"' not in html  # no JSON text area
    post = _brand_post(
        brand,
        audience_gender_female="70",
        audience_gender_male="30",
        audience_age_18_24="50",
        audience_age_25_34="50",
        audience_regions=["CN-SH", "CN-GD"],
    )
    response = en_admin.post(url, post)
    assert response.status_code == 302, response.content.decode()[:2000]
    brand.refresh_from_db()
    assert brand.audience["gender"] == {"female": 0.7, "male": 0.3}
    assert brand.audience["age"] == {"18-24": 0.5, "25-34": 0.5}
    assert brand.audience["regions"] == ["CN-SH", "CN-GD"] and "city_tier" not in brand.audience


def test_audience_shares_that_do_not_add_up_are_refused_next_to_their_dimension(en_admin, brand):
    url = reverse("admin:partners_brand_change", args=[brand.pk])
    before = dict(brand.audience)
    response = en_admin.post(url, _brand_post(brand, audience_gender_female="90", audience_gender_male="30"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "gender shares must sum to 1" in html
    response = en_admin.post(url, _brand_post(brand, audience_age_45_plus="140"))
    assert response.status_code == 200 and "less than or equal to 100" in response.content.decode()
    brand.refresh_from_db()
    assert brand.audience == before
    assert not AuditEvent.objects.exists()


def test_category_choices_are_leaves_shown_by_name(en_admin, brand):
    html = en_admin.get(reverse("admin:partners_brand_change", args=[brand.pk])).content.decode()
    assert "Tea drinks (beverage.tea_drinks)" in html


# --- user accounts ------------------------------------------------------------------------------
def test_staff_find_an_account_and_deactivate_it_through_the_service(en_admin, admin_user):
    person = UserFactory(username="spam@example.com", display_name="Spammer")
    UserFactory(username="someone@example.com")
    changelist = reverse("admin:partners_user_changelist")
    found = en_admin.get(changelist, {"q": "spam@"}).content.decode()
    assert "spam@example.com" in found and "someone@example.com" not in found
    response = en_admin.post(changelist, {"action": "deactivate_selected", ACTION_CHECKBOX_NAME: [person.pk]})
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_active
    event = AuditEvent.objects.get(action=AuditAction.USER_DEACTIVATED)
    assert (event.actor, event.object_id) == (admin_user, str(person.pk))
    assert not Client().login(username="spam@example.com", password="correct-horse-battery")
    en_admin.post(changelist, {"action": "reactivate_selected", ACTION_CHECKBOX_NAME: [person.pk]})
    person.refresh_from_db()
    assert person.is_active and AuditEvent.objects.filter(action=AuditAction.USER_REACTIVATED).exists()


def test_the_is_active_checkbox_on_the_account_page_goes_through_the_service(en_admin, admin_user):
    person = UserFactory(username="person@example.com")
    url = reverse("admin:partners_user_change", args=[person.pk])
    html = en_admin.get(url).content.decode()
    assert 'name="is_active"' in html
    response = en_admin.post(url, {"display_name": "Renamed", "language": ""})  # is_active unticked
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert (person.is_active, person.display_name) == (False, "Renamed")
    assert AuditEvent.objects.filter(action=AuditAction.USER_DEACTIVATED, object_id=str(person.pk)).exists()


def test_account_pages_never_show_a_password_hash(en_admin):
    person = UserFactory(username="person@example.com")
    for url in (
        reverse("admin:partners_user_changelist"),
        reverse("admin:partners_user_change", args=[person.pk]),
    ):
        html = en_admin.get(url).content.decode()
        assert person.password not in html
        assert person.password.split("$")[-1] not in html
        assert 'name="password"' not in html and "algorithm" not in html.lower()


def test_staff_cannot_deactivate_themselves_and_accounts_are_not_added_or_deleted_here(en_admin, admin_user):
    changelist = reverse("admin:partners_user_changelist")
    response = en_admin.post(changelist, {"action": "deactivate_selected", ACTION_CHECKBOX_NAME: [admin_user.pk]})
    followed = en_admin.get(response["Location"]).content.decode()
    assert "You cannot deactivate your own account." in followed
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert en_admin.get(reverse("admin:partners_user_add")).status_code == 403
    person = UserFactory()
    assert en_admin.get(reverse("admin:partners_user_delete", args=[person.pk])).status_code == 403


def test_only_a_superuser_deactivates_another_staff_account(db):
    staff = UserFactory(username="staff@example.com", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"], content_type__app_label="partners")
    )
    other_admin = AdminFactory(username="boss@example.com")
    client = Client()
    client.force_login(staff)
    client.cookies.load({"django_language": "en"})
    changelist = reverse("admin:partners_user_changelist")
    response = client.post(changelist, {"action": "deactivate_selected", ACTION_CHECKBOX_NAME: [other_admin.pk]})
    assert "Only a superuser can deactivate a staff account." in client.get(response["Location"]).content.decode()
    other_admin.refresh_from_db()
    assert other_admin.is_active
    person = UserFactory()
    client.post(changelist, {"action": "deactivate_selected", ACTION_CHECKBOX_NAME: [person.pk]})
    person.refresh_from_db()
    assert not person.is_active


def test_a_deactivated_admin_is_no_longer_an_admin(admin_user):
    from partners.actors import Actor
    from partners.services import user_set_active

    other = AdminFactory(username="other-admin@example.com")
    user_set_active(actor=Actor(user=admin_user), user=other, is_active=False)
    other.refresh_from_db()
    assert not Actor(user=other).is_admin
    assert User.objects.get(pk=other.pk).is_active is False


def test_leaf_category_names_follow_the_language(db):
    from django.utils import translation

    coffee = category("beverage.coffee")
    with translation.override("zh-hans"):
        assert str(coffee) == "咖啡 (beverage.coffee)"
    with translation.override("en"):
        assert str(coffee) == "Coffee (beverage.coffee)"
    assert BrandFactory(category=coffee).category == coffee
