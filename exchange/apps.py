from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Swap exchange")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: app modules that touch models load only once the registry is ready.
        from exchange import selectors
        from matching.exclusions import register_excluded_pairs_source

        # Pairs negotiating a proposal leave each other's recommendation lists (matching owns
        # the seam; the exchange plugs into it — matching never imports the exchange).
        register_excluded_pairs_source(selectors.open_pairs)
