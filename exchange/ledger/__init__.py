"""The reciprocity ledger: the only code that writes entries (``posting``), the posting rules
the exchange applies (``rules``), what may be read (``selectors``) and the verifier behind
``manage.py check_ledger`` (``check``). Models: ``exchange.models.ledger``."""
