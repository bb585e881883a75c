"""The `papermode` command: click commands only, one module per moment."""
