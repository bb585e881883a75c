"""Reconcile: the downtime paper against the snapshot's orders and the restored record."""
