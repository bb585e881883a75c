"""Claims on files being read, so two ingests of the same files at once read each once.

A claim's owner is `host:pid:random`; a claim whose run is gone (its process dead on this
machine, or older than `CLAIM_STALE_AFTER`) is taken over by the next run.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from papermode.store.rows import from_iso

# A claim on a file left by a run that was killed on another machine is taken over after this.
CLAIM_STALE_AFTER = timedelta(hours=1)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_is_stale(holder: str, claimed_at: str | None, owner: str) -> bool:
    """A claim is stale when its run is gone: same machine and its process is dead (or it is
    this process, from an earlier run), or it is older than CLAIM_STALE_AFTER."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":")[0]
    if host == owner.partition(":")[0] and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid() or not process_alive(pid):
            return True
    when = from_iso(claimed_at)
    return when is None or datetime.now() - when > CLAIM_STALE_AFTER
