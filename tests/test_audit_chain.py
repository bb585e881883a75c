"""The audit chain against its anchored head: edited, deleted, reordered, truncated and
rewritten chains are detected (`papermode audit verify`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from papermode.cli.reconcile import audit_group
from papermode.ingest.pipeline import ingest_paths
from papermode.store.audit import (
    anchor_head,
    chain_head,
    entry_hash,
    head_path,
    read_head,
    verify_chain,
)
from papermode.store.database import Store, open_store


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "papermode.db")
    for number in range(6):
        opened.audit("ingest", f"file-{number}", {"status": "read"})
    anchor_head(opened)
    return opened


def verify(store: Store) -> tuple[str, ...]:
    return verify_chain(store, read_head(head_path(store))).problems


def test_an_untouched_chain_is_intact_and_later_entries_are_fine(store: Store) -> None:
    assert verify(store) == ()
    store.audit("export", "fhir", {"items": 3})  # after the head was anchored
    assert verify(store) == ()
    head = chain_head(store)
    assert head is not None and head.seq == 7 and len(head.hash) == 64


def test_an_edited_entry_is_detected(store: Store) -> None:
    store.db.execute("UPDATE audit SET detail = ? WHERE seq = 3", [json.dumps({"status": "x"})])
    assert verify(store) == ("entry 3: its content was changed after it was written",)


def test_a_deleted_middle_entry_is_detected(store: Store) -> None:
    store.db.execute("DELETE FROM audit WHERE seq = 3")
    assert verify(store) == ("entry 4: does not follow entry 2 (deleted or moved)",)


def test_reordered_entries_are_detected(store: Store) -> None:
    store.db.execute("UPDATE audit SET seq = 100 WHERE seq = 2")
    store.db.execute("UPDATE audit SET seq = 2 WHERE seq = 4")
    store.db.execute("UPDATE audit SET seq = 4 WHERE seq = 100")
    assert any("deleted or moved" in problem for problem in verify(store))


def test_deleting_the_last_entries_is_detected_against_the_head(store: Store) -> None:
    store.db.execute("DELETE FROM audit WHERE seq >= 5")
    # The links that remain are all fine: only the anchored head shows the loss.
    assert verify_chain(store).problems == ()
    assert verify(store) == ("the chain ends at entry 4, before the anchored head 6: truncated",)


def test_a_chain_rewritten_from_scratch_is_detected(store: Store) -> None:
    rows = list(store.db.query("SELECT * FROM audit ORDER BY seq"))
    store.db.execute("DELETE FROM audit")
    prev = ""
    for row in rows:  # a forger rebuilds every hash, with one detail changed
        row["detail"] = json.dumps({"status": "forged"}) if row["seq"] == 2 else row["detail"]
        row["prev_hash"], row["hash"] = prev, entry_hash(prev, row)
        prev = row["hash"]
        store.db.table("audit").insert(row)
    assert verify_chain(store).problems == ()  # consistent on its own ...
    assert verify(store) == ("entry 6 is not the anchored one: the chain was rewritten",)


def test_cli_verify_says_intact_or_fails_with_exit_code_32(store: Store) -> None:
    runner = CliRunner()
    ok = runner.invoke(audit_group, ["verify", "--store", str(store.path)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("audit chain intact: 6 entries, anchored head 6:")
    head = chain_head(store)
    assert head is not None
    store.db.execute("DELETE FROM audit WHERE seq = 6")
    store.close()
    printed = runner.invoke(
        audit_group, ["verify", "--store", str(store.path), "--head", head.text]
    )
    assert printed.exit_code == 32
    assert "truncated" in printed.output and "restore the last backup" in printed.output
    bad = runner.invoke(audit_group, ["verify", "--store", str(store.path), "--head", "6:zz"])
    assert bad.exit_code == 32 and "is not an audit head" in bad.output


# ---------------------------------------------------------------------- head kept current


def test_the_head_file_follows_every_append_owner_only(tmp_path: Path) -> None:
    with open_store(tmp_path / "papermode.db") as store:
        store.audit("ingest", "file-1", {"status": "read"})
        first = read_head(head_path(store))
        with store.transaction():
            store.audit("review", "item", {"kind": "confirm"})
            assert read_head(head_path(store)) == first  # not before the commit
        assert read_head(head_path(store)) == chain_head(store) != first
        assert head_path(store).stat().st_mode & 0o077 == 0
        with pytest.raises(RuntimeError), store.transaction():
            store.audit("export", "fhir", {})
            raise RuntimeError("interrupted")
        # A rolled-back entry is never anchored (verify would call the chain truncated).
        assert verify_chain(store, read_head(head_path(store))).problems == ()


def test_a_truncated_chain_after_an_ingest_is_detected_without_any_export(tmp_path: Path) -> None:
    store_path = tmp_path / "papermode.db"
    photo = tmp_path / "not-a-photo.jpg"
    photo.write_bytes(b"this is not an image")
    with open_store(store_path) as store:
        ingest_paths([photo], store, workers=1)
        last = chain_head(store)
        assert last is not None and read_head(head_path(store)) == last
        store.db.execute("DELETE FROM audit WHERE seq = ?", [last.seq])  # hide the ingest
        # The next append must not anchor the truncated chain afresh.
        store.audit("ingest", "file-2", {"status": "read"})
        assert read_head(head_path(store)) == last
    result = CliRunner().invoke(audit_group, ["verify", "--store", str(store_path)])
    assert result.exit_code == 32, result.output
    assert f"entry {last.seq} is not the anchored one" in result.output


def test_deleting_the_last_entry_after_a_decision_is_detected(tmp_path: Path) -> None:
    with open_store(tmp_path / "papermode.db") as store:
        for number in range(3):
            with store.transaction():
                store.audit("review", f"item-{number}", {"kind": "confirm"}, actor="clerk A")
        store.db.execute("DELETE FROM audit WHERE seq = 3")
        problems = verify_chain(store, read_head(head_path(store))).problems
    assert problems == ("the chain ends at entry 2, before the anchored head 3: truncated",)
