"""The engine: specs, resources, plan, apply, state and lock. No click, no rich here."""
