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

        # A brand's status change reaches its partner systems through the outbox (partners owns
        # the signal and never imports the exchange).
        from exchange.outbox import brand_status_event
        from partners.signals import brand_status_changed

        brand_status_changed.connect(brand_status_event, dispatch_uid="exchange-brand-status-event")
