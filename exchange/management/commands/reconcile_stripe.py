"""``python manage.py reconcile_stripe``: compare local settlements, payments, refunds and the
ledger's cash entries with Stripe's PaymentIntents and Refunds; print every mismatch and exit 1
if there is any (the nightly beat task runs the same check)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from exchange import stripe_client
from exchange.models import Payment, Refund
from exchange.services.stripe_sync import reconcile


class Command(BaseCommand):
    help = "Compare payments, refunds and ledger cash with Stripe; exit 1 on any mismatch."

    def handle(self, *args, **options):
        if not stripe_client.configured():
            self.stderr.write("reconcile_stripe: STRIPE_SECRET_KEY is not set; nothing to compare")
            raise SystemExit(2)
        try:
            problems = reconcile()
        except stripe_client.StripeUnavailable as exc:
            self.stderr.write(f"reconcile_stripe: Stripe did not answer: {exc}")
            raise SystemExit(2) from None
        for line in problems:
            self.stderr.write(line)
        summary = f"{Payment.objects.count()} payments, {Refund.objects.count()} refunds"
        if problems:
            self.stderr.write(f"reconcile_stripe: {len(problems)} mismatch(es) in {summary}")
            raise SystemExit(1)
        self.stdout.write(f"reconcile_stripe: {summary} match Stripe")
