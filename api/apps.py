from django.apps import AppConfig
from django.utils import translation


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # graphene-django turns model choices into enums when the types are defined, reading
        # their (lazy) labels once as descriptions. Build the schema here, in English, so its
        # SDL does not depend on the language of whichever request or command imported it
        # first (the committed schema.graphql is compared with it: api/contract.py).
        with translation.override("en"):
            import api.schema  # noqa: F401
