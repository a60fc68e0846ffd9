from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _

from partners.signals import brand_changed, brands_imported


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("Partner matching")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Models can be imported only once the app registry is ready, hence here.
        from matching import signals
        from partners.models import Brand

        brand_changed.connect(signals.on_brand_changed, dispatch_uid="matching.on_brand_changed")
        brands_imported.connect(signals.on_brands_imported, dispatch_uid="matching.on_brands_imported")
        post_delete.connect(signals.on_brand_deleted, sender=Brand, dispatch_uid="matching.on_brand_deleted")
