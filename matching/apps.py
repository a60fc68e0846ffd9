from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from matching import signals
        from partners.signals import brand_changed, brands_imported

        brand_changed.connect(signals.on_brand_changed, dispatch_uid="matching.on_brand_changed")
        brands_imported.connect(signals.on_brands_imported, dispatch_uid="matching.on_brands_imported")
        from django.db.models.signals import post_delete

        from partners.models import Brand

        post_delete.connect(signals.on_brand_deleted, sender=Brand, dispatch_uid="matching.on_brand_deleted")
