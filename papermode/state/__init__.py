"""Merge of repeated captures of one page into its current state; the `readings` report."""
