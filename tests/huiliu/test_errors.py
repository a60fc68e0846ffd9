"""huiliu.errors.error_items: every surface reads a ValidationError the same way."""

from django.core.exceptions import ValidationError

from huiliu.errors import error_items


def test_field_errors_keep_their_field_code_and_message():
    exc = ValidationError(
        {
            "slug": ValidationError("slug is required.", code="required"),
            "channels[0].size": [ValidationError("too big", code="out_of_range"), ValidationError("odd")],
        }
    )
    assert error_items(exc) == [
        ("slug", "required", "slug is required."),
        ("channels[0].size", "out_of_range", "too big"),
        ("channels[0].size", "invalid", "odd"),
    ]


def test_field_less_errors_are_reported_on_all_with_invalid_as_the_default_code():
    exc = ValidationError([ValidationError("first", code="duplicate"), "second"])
    assert error_items(exc) == [("__all__", "duplicate", "first"), ("__all__", "invalid", "second")]


def test_message_parameters_are_interpolated():
    exc = ValidationError({"n": ValidationError("at most %(n)d", code="invalid", params={"n": 3})})
    assert error_items(exc) == [("n", "invalid", "at most 3")]
