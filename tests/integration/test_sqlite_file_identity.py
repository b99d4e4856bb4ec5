"""A SQLite store whose file is deleted or replaced under it says so (StoreError kind "replaced") on its next read or
write, instead of going on writing into an unlinked inode that no later process reads (trial 19, H1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.store_contract import ev, ids
from watchfloor.stream_processors.ports import Checkpoint
from watchfloor.stream_processors.stores.errors import StoreError
from watchfloor.stream_processors.stores.sql import SqlStore, file_identity

pytestmark = pytest.mark.integration


def test_a_deleted_store_file_refuses_every_read_and_write(tmp_path: Path) -> None:
    db = tmp_path / "wf.db"
    store = SqlStore(f"sqlite:///{db}")
    try:
        store.append([ev(1)])
        store.check_file()  # the file it opened: nothing to say
        os.remove(db)
        with pytest.raises(StoreError) as e:
            store.check_file()
        assert e.value.kind == "replaced"
        assert e.value.problem == f"the store file {db} was deleted while this process had it open"
        for act in (
            lambda: store.append([ev(2)]),
            lambda: store.commit("p", Checkpoint(1, None), [ev(3)]),
            lambda: store.read(),
            lambda: store.head(),
            lambda: store.delivery_stats(("outstanding",)),
        ):
            with pytest.raises(StoreError) as e:
                act()
            assert e.value.kind == "replaced"
        assert not db.exists()  # no new, empty file made at the path by a new connection
    finally:
        store.close()


def test_a_replaced_store_file_is_said_as_such(tmp_path: Path) -> None:
    db, other = tmp_path / "wf.db", tmp_path / "restored.db"
    store = SqlStore(f"sqlite:///{db}")
    SqlStore(f"sqlite:///{other}").close()
    try:
        store.append([ev(1)])
        os.replace(other, db)  # a copy put in its place under the live process
        with pytest.raises(StoreError) as e:
            store.append([ev(2)])
        assert e.value.kind == "replaced" and "was replaced while this process had it open" in e.value.problem
    finally:
        store.close()
    reopened = SqlStore(f"sqlite:///{db}")
    try:
        # The write after the replacement was rolled back. (Whether e1 shows here depends on SQLite's -wal, which goes
        # by the path, not the file: one more reason never to replace a live store's file; README, Operations.)
        assert "e2" not in ids(reopened.read())
    finally:
        reopened.close()


def test_the_same_file_moved_away_and_back_or_vacuumed_is_an_outage_at_most(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = home / "wf.db"
    store = SqlStore(f"sqlite:///{db}")
    try:
        store.append([ev(1), ev(2)])
        store.reclaim_space()  # VACUUM rewrites the file in place: the same inode
        store.check_file()
        # Moved away, the file or its directory: an outage (nothing read or written meanwhile), not the end.
        home.rename(tmp_path / "away")
        with pytest.raises(StoreError) as e:
            store.append([ev(3)])
        assert e.value.kind == "missing" and e.value.problem == f"directory {home} does not exist (moved away?)"
        (tmp_path / "away").rename(home)  # back: the same file, the store goes on
        db.rename(home / "elsewhere.db")
        with pytest.raises(StoreError) as e:
            store.read()
        assert e.value.kind == "missing" and e.value.problem == f"the store file {db} is no longer there (moved away?)"
        (home / "elsewhere.db").rename(db)
        store.append([ev(3)])
        assert ids(store.read()) == ["e1", "e2", "e3"]
    finally:
        store.close()


def test_file_identity_and_stores_without_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    assert file_identity(path) is None and file_identity(path / "under") is None
    path.write_text("x")
    st = os.stat(path)
    assert file_identity(path) == (st.st_dev, st.st_ino)
    store = SqlStore("sqlite://")  # in memory: no file to watch
    try:
        store.append([ev(1)])
        store.check_file()
    finally:
        store.close()
