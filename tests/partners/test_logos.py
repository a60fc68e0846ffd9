"""Brand logos: PNG, JPEG or WebP recognised by their content (not their name), at most
512 KB, stored through Django's storage; replacing or removing one is audited."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from partners import services
from partners.errors import PartnersError
from partners.logos import LOGO_MAX_BYTES, image_type
from partners.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
GIF = b"GIF89a" + b"\x00" * 40


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(content: bytes, name: str = "logo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.mark.parametrize(("content", "kind"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")])
def test_image_type_is_read_from_the_content(content, kind):
    assert image_type(io.BytesIO(content)) == kind


@pytest.mark.parametrize("content", [SVG, GIF, b"", b"\x89PNG", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"%PDF-1.7"])
def test_anything_else_is_not_an_image_we_take(content):
    assert image_type(io.BytesIO(content)) is None


def test_a_logo_is_stored_with_the_extension_of_its_content_and_audited(brand, owner_actor, media):
    services.brand_logo_set(actor=owner_actor, brand=brand, upload=upload(JPEG, name="logo.png"))
    brand.refresh_from_db()
    assert brand.logo.name.startswith(f"logos/{brand.slug}-") and brand.logo.name.endswith(".jpg")
    assert (media / brand.logo.name).read_bytes() == JPEG
    event = AuditEvent.objects.get(action=AuditAction.BRAND_UPDATED)
    assert event.brand == brand and event.data == {"fields": ["logo"]}


def test_a_disguised_file_is_refused_whatever_its_name(brand, owner_actor, media):
    for content, name in ((SVG, "logo.png"), (GIF, "logo.webp"), (b"<html>", "logo.jpg")):
        with pytest.raises(ValidationError) as exc:
            services.brand_logo_set(actor=owner_actor, brand=brand, upload=upload(content, name=name))
        assert exc.value.error_dict["logo"][0].code == PartnersError.INVALID_IMAGE
    brand.refresh_from_db()
    assert not brand.logo and not list(media.rglob("*.*")) and not AuditEvent.objects.exists()


def test_a_logo_over_512_kb_is_refused(brand, owner_actor, media):
    assert LOGO_MAX_BYTES == 512 * 1024
    big = PNG + b"\x00" * LOGO_MAX_BYTES
    with pytest.raises(ValidationError) as exc:
        services.brand_logo_set(actor=owner_actor, brand=brand, upload=upload(big))
    assert exc.value.error_dict["logo"][0].code == PartnersError.TOO_LARGE
    assert "512 KB" in exc.value.error_dict["logo"][0].messages[0]
    assert not list(media.rglob("*.*"))


def test_replacing_and_removing_a_logo_deletes_the_old_file(
    brand, owner_actor, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_logo_set(actor=owner_actor, brand=brand, upload=upload(PNG))
    brand.refresh_from_db()
    first = brand.logo.name
    assert (media / first).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_logo_set(actor=owner_actor, brand=brand, upload=upload(WEBP))
    brand.refresh_from_db()
    assert brand.logo.name != first and not (media / first).exists()
    second = brand.logo.name
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_logo_set(actor=owner_actor, brand=brand, upload=None)
    brand.refresh_from_db()
    assert not brand.logo and not (media / second).exists()
    assert AuditEvent.objects.filter(action=AuditAction.BRAND_UPDATED).count() == 3


def test_only_editors_set_a_logo(brand, other_actor, media):
    with pytest.raises(ValidationError) as exc:
        services.brand_logo_set(actor=other_actor, brand=brand, upload=upload(PNG))
    assert exc.value.error_dict["__all__"][0].code == PartnersError.PERMISSION_DENIED
    assert not list(media.rglob("*.*"))
