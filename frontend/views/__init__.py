"""Web views, one module per area. Each view parses input, calls one partners service or
selector, and renders; scoping and rules live in partners.selectors / partners.services."""
