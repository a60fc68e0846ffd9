"""``manage.py webhooks_reencrypt``: re-encrypt every webhook signing secret under the current
WEBHOOK_SECRET_KEY (after rotating it, with the old value listed in WEBHOOK_SECRET_KEYS_OLD).
Idempotent; prints how many rows it rewrote. Then the old key can be dropped from the settings."""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from exchange.services import webhooks


class Command(BaseCommand):
    help = "Re-encrypt webhook signing secrets under the current WEBHOOK_SECRET_KEY."

    def handle(self, *args, **options):
        try:
            count = webhooks.secrets_reencrypt()
        except InvalidToken:
            raise CommandError(
                _("A secret could not be decrypted: list the key it was encrypted with in WEBHOOK_SECRET_KEYS_OLD.")
            ) from None
        self.stdout.write(_("Re-encrypted the secrets of %(n)d webhook endpoints.") % {"n": count})
