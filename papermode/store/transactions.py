"""The one way papermode writes to SQLite: all or nothing, nested blocks as savepoints.

Every writer (the `Store`, ingest, free-photo search) goes through `transaction(db)`:

- the outermost block starts with `BEGIN IMMEDIATE`: the write lock is taken at once
  (waiting up to the connection's timeout for another process to finish), so a block that
  reads then writes, as the audit chain does, never interleaves with another writer;
  it commits at the end and rolls back on an exception or when the COMMIT itself fails;
- a block inside another is sqlite-utils' `Database.atomic()`, a savepoint: if it fails,
  only its own writes are undone, and the error still reaches the outer block.

sqlite-utils' own `atomic()` opens with a deferred `BEGIN`, which is why the outermost level
is written here. sqlite-utils 4.0 or later is required (setup.cfg): from 4.0 on its methods
never commit a transaction they did not open; `executescript()` and `enable_fts()` inside
a transaction run statement by statement instead of committing first, as 3.x did.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlite_utils


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """All or nothing: an interrupted block leaves the database as it was."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        db.rollback()  # a no-op when the error already ended the transaction
        raise
