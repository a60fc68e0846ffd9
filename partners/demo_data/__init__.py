"""Data for the demo market (``manage.py load_demo``): the brands named in the seed articles."""
