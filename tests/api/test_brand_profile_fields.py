"""The GraphQL brand types read the profile field list from partners.validation (it exists
once): every profile field is on Brand; PartnerProfile, seen by every brand, leaves out the
legal identity."""

from api.schema import schema
from partners.validation import BRAND_LEGAL_FIELDS, BRAND_PROFILE_FIELDS


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_brand_type_has_every_profile_field():
    fields = schema.graphql_schema.get_type("Brand").fields
    assert {_camel(f) for f in BRAND_PROFILE_FIELDS} <= set(fields)


def test_partner_profile_has_the_public_profile_and_no_legal_identity():
    fields = set(schema.graphql_schema.get_type("PartnerProfile").fields)
    public = [f for f in BRAND_PROFILE_FIELDS if f not in BRAND_LEGAL_FIELDS]
    assert {_camel(f) for f in public} <= fields
    assert not {_camel(f) for f in BRAND_LEGAL_FIELDS} & fields
