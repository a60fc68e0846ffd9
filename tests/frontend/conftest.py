"""Helpers for the web UI tests (Django test client)."""

import pytest

from partners.models import Role
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_with_role(brand):
    def make(role: str):
        return MembershipFactory(brand=brand, role=role, user=UserFactory()).user

    return make


@pytest.fixture
def viewer(member_with_role):
    return member_with_role(Role.VIEWER)


@pytest.fixture
def marketer(member_with_role):
    return member_with_role(Role.MARKETER)


def errors_in(response) -> str:
    """The text of every error shown on the page (field and form errors, flash errors)."""
    import re

    html = response.content.decode()
    found = re.findall(r'class="(?:error|flash flash-error)"[^>]*>(.*?)</', html, flags=re.S)
    found += re.findall(r'class="alert alert-error"[^>]*>(.*?)</div>', html, flags=re.S)
    return " | ".join(f.strip() for f in found)
