from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo market (``manage.py load_demo``): it spans partners and matching, so it sits above
    both (partners never imports matching)."""

    name = "demo"
