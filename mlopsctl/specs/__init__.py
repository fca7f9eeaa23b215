"""Specs: loading mlops.yaml and models/*.yaml with locations, the JSON Schemas, typed spec objects
and the parse cache."""
