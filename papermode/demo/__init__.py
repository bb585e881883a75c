"""Synthetic corpus, demo and benchmark. The reading code never imports this package."""
