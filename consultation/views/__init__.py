"""Blueprints, one module per audience."""
