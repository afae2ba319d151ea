"""clavain: execute implementation plans in batches, with the rules held by code."""

__version__ = "0.1.0"
