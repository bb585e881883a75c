"""The crisis cell's daily report: figures a nurse in charge acts on, per ward and for the
hospital (`papermode report`)."""
