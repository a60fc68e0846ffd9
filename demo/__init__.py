"""Project-level demo loader: ``manage.py load_demo`` fills partners and matching with the demo market."""
