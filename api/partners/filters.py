"""Arguments of the brand list (marketplace search), shared by every query that lists brands."""

import graphene

BRAND_LIST_ARGS = {
    "search": graphene.String(description="Part of the Chinese or English name, or the slug."),
    "category": graphene.String(description="A category code: a leaf, or a group to include its leaves."),
}


def brand_list_filters(kwargs: dict) -> dict:
    return {"search": kwargs.get("search") or "", "category": kwargs.get("category") or ""}
