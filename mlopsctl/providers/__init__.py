"""Resource providers, one module per kind (see base.PROVIDERS)."""
