"""``python manage.py check_ledger``: verify every transaction and every balance of the
reciprocity ledger; exits 1 and lists each difference if there is any."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from exchange.ledger.check import ledger_problems
from exchange.models import LedgerAccount, LedgerTransaction


class Command(BaseCommand):
    help = "Verify the reciprocity ledger: zero-sum transactions, balances, running balances, reversals."

    def handle(self, *args, **options):
        problems = ledger_problems()
        txns, accounts = LedgerTransaction.objects.count(), LedgerAccount.objects.count()
        if problems:
            for line in problems:
                self.stderr.write(line)
            self.stderr.write(f"check_ledger: {len(problems)} problem(s) in {txns} transactions, {accounts} accounts")
            raise SystemExit(1)
        self.stdout.write(f"check_ledger: {txns} transactions and {accounts} accounts verified, no differences")
