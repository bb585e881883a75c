"""The SQLite store: schema and migrations, rows, evidence files, audit chain."""
