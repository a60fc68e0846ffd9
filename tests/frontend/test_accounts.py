"""Sign-up, sign-in, sign-out and the language of the pages."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.frontend.conftest import errors_in

pytestmark = pytest.mark.django_db
User = get_user_model()
GOOD_PASSWORD = "Tide-Pool-Lantern-42"


def test_pages_are_chinese_by_default_and_english_on_request(client):
    zh = client.get(reverse("frontend:home"))
    assert '<html lang="zh-hans">' in zh.content.decode()
    assert "品牌广场" in zh.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    en = client.get(reverse("frontend:home"))
    assert '<html lang="en">' in en.content.decode()
    assert "Marketplace" in en.content.decode()


def test_signup_with_a_weak_password_shows_why_and_creates_no_account(client):
    response = client.post(reverse("frontend:signup"), {"email": "mei@example.com", "password": "12345678"})
    assert response.status_code == 200
    assert "密码" in errors_in(response) or "password" in errors_in(response).lower()
    assert not User.objects.filter(username="mei@example.com").exists()
    assert "_auth_user_id" not in client.session


def test_signup_with_an_invalid_email_is_refused(client):
    response = client.post(reverse("frontend:signup"), {"email": "not-an-email", "password": GOOD_PASSWORD})
    assert response.status_code == 200
    assert errors_in(response)
    assert User.objects.count() == 0


def test_signup_with_an_email_already_registered_is_refused(client, owner):
    response = client.post(
        reverse("frontend:signup"), {"email": "OWNER@example.com", "password": GOOD_PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "An account with this e-mail already exists." in errors_in(response)
    assert User.objects.filter(username__iexact="owner@example.com").count() == 1


def test_signup_creates_the_account_and_signs_in(client):
    response = client.post(
        reverse("frontend:signup"), {"email": "Mei@Example.com", "display_name": "林梅", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("frontend:dashboard")
    user = User.objects.get(username="mei@example.com")
    assert user.display_name == "林梅"
    assert client.get(reverse("frontend:dashboard")).status_code == 200


def test_signin_with_a_wrong_password_is_refused(client, owner):
    response = client.post(
        reverse("frontend:login"), {"email": "owner@example.com", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "The e-mail or password is incorrect." in errors_in(response)
    assert "_auth_user_id" not in client.session


def test_signin_returns_to_the_page_asked_for_but_never_off_site(client, owner):
    ok = client.post(
        reverse("frontend:login") + "?next=/brands/",
        {"email": "owner@example.com", "password": "correct-horse-battery", "next": "/brands/"},
    )
    assert ok["Location"] == "/brands/"
    client.logout()
    evil = client.post(
        reverse("frontend:login"),
        {"email": "owner@example.com", "password": "correct-horse-battery", "next": "https://evil.example/"},
    )
    assert evil["Location"] == reverse("frontend:dashboard")


def test_signout_needs_post(owner_client):
    assert owner_client.get(reverse("frontend:logout")).status_code == 405
    response = owner_client.post(reverse("frontend:logout"))
    assert response["Location"] == reverse("frontend:home")
    assert "_auth_user_id" not in owner_client.session


def test_member_pages_send_anonymous_visitors_to_sign_in(client, brand):
    for url in (
        reverse("frontend:dashboard"),
        reverse("frontend:wizard_profile"),
        reverse("frontend:brand_detail", args=[brand.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("frontend:login"))
