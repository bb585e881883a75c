"""`papermode merge` on synthetic stations: idempotent, order-independent (hypothesis),
every capture kept, chains kept per station, refusals that leave the store as it was."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papermode.ingest.stations import merge_stations
from papermode.store.database import open_existing_store
from tests.stationfactory import Decided, Photo, build_station, content, copy_store

photos = st.builds(
    Photo,
    photo=st.integers(0, 5),
    page=st.integers(0, 1),
    minute=st.integers(0, 30),
    ingested_minute=st.integers(0, 30),
    tick=st.sampled_from(["ticked", "empty", "filled"]),
    time=st.sampled_from(["0815", "0845", ""]),
    confidence=st.sampled_from([0.99, 0.5]),
)
decided = st.builds(
    Decided,
    page=st.integers(0, 1),
    field=st.sampled_from(["f1", "f2"]),
    kind=st.sampled_from(["confirm", "correct", "withdraw"]),
    value=st.sampled_from(["ticked", "0815"]),
    reviewer=st.sampled_from(["A. Dupont", "B. Martin"]),
)
station_parts = st.tuples(
    st.lists(photos, max_size=4, unique_by=lambda p: p.photo),
    st.lists(decided, max_size=3),
)


def merged(folder: Path, name: str, first: Path, *others: Path) -> dict[str, object]:
    """Copy `first`, merge `others` into the copy one by one; the copy's content."""
    target = copy_store(first, folder / f"{name}.db")
    with open_existing_store(target) as store:
        for other in others:
            merge_stations(store, [other])
        return content(store)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(a=station_parts, b=station_parts, c=station_parts)
def test_merge_is_idempotent_commutative_and_associative(a, b, c) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        path_a = build_station(folder, "ward-a", *a)
        path_b = build_station(folder, "ward-b", *b)
        path_c = build_station(folder, "ward-c", *c)
        with open_existing_store(path_a) as store:
            alone = content(store)
        # A+A = A (a copy of itself: same station, same chain)
        assert merged(folder, "aa", path_a, copy_store(path_a, folder / "a2.db")) == alone
        # A+B = B+A
        ab = merged(folder, "ab", path_a, path_b)
        assert merged(folder, "ba", path_b, path_a) == ab
        # (A+B)+B = A+B
        assert merged(folder, "abb", path_a, path_b, path_b) == ab
        # (A+B)+C = A+(B+C)
        left = merged(folder, "ab_c", path_a, path_b, path_c)
        copy_store(path_b, folder / "bc.db")
        with open_existing_store(folder / "bc.db") as store:
            merge_stations(store, [path_c])
        assert merged(folder, "a_bc", path_a, folder / "bc.db") == left
        # every capture of every station is kept
        captures = {row[0] for row in left["captures"]}  # type: ignore[index]
        for path in (path_a, path_b, path_c):
            with open_existing_store(path) as store:
                assert {r["capture_id"] for r in store.db.query("SELECT * FROM captures")} <= captures
