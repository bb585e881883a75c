"""One image -> one outcome: load, quality gate, locate, tick boxes, digits, plausibility.

This package never imports the store (an import-linter contract)."""
