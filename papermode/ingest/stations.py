"""`papermode merge`: bring the captures of other downtime laptops (stations) into this store.

One transaction for everything: every other store is brought in
(`papermode.store.merge_stores`), the page states of the pages they touched are rebuilt from
all their captures (`papermode.state.page_state`: readings of one page that contradict
each other become review items by the usual merge rules), and one `merge` entry is
appended to this store's audit chain. An error in any of the stores leaves this store's
tables as they were.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from papermode.state.page_state import update_page_state
from papermode.store.database import Store
from papermode.store.merge_stores import StoreMerged, merge_store, open_other_store
from papermode.store.stations import ensure_station

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MergeReport:
    """What `merge_stations` brought in, store by store, and the pages it rebuilt."""

    station: str  # this store's station id
    stores: tuple[StoreMerged, ...]
    pages_rebuilt: tuple[str, ...]

    @property
    def captures(self) -> int:
        return sum(merged.captures for merged in self.stores)

    @property
    def decisions(self) -> int:
        return sum(merged.decisions for merged in self.stores)


def merge_stations(store: Store, others: Sequence[Path]) -> MergeReport:
    """Merge every store of `others` into `store`, all or nothing (see the module doc)."""
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(open_other_store(path, store)) for path in others]
        with store.transaction():
            station = ensure_station(store.db)
            results = tuple(merge_store(store, other) for other in opened)
            touched = sorted({page for merged in results for page in merged.touched_pages})
            for page_id in touched:
                update_page_state(store, page_id)
            store.audit(
                "merge",
                ",".join(str(merged.station) for merged in results),
                {
                    "stores": [merged.other for merged in results],
                    "captures": sum(m.captures for m in results),
                    "decisions": sum(m.decisions for m in results),
                    "audit_entries": sum(m.audit_entries for m in results),
                    "pages_rebuilt": len(touched),
                },
            )
    logger.info("merge: %d stores, %d pages rebuilt", len(results), len(touched))
    return MergeReport(station, results, tuple(touched))
