"""Rule files edited under a running process are said, each edit once (outside trial 13, M1: a pack edited while
the workers ran was silently ignored)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from watchfloor.rule_watch import RuleFilesWatch, edited_rules_note, watch_in_background

PACK = "version: 2\nentities: {}\nsignals: {}\ndetections: []\n"


def write(path: Path, text: str, mtime: int) -> None:
    """Each write gets its own mtime: two writes within one clock tick must not look like one."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime * 10**9, mtime * 10**9))


def test_an_edit_is_said_once_a_touch_not_at_all_and_undoing_it_is_said_too(tmp_path: Path) -> None:
    pack = tmp_path / "desk.yaml"
    write(pack, PACK, 1000)
    watch = RuleFilesWatch([str(pack), "builtin:dprk_russia"])
    assert watch.edited() == []
    write(pack, PACK.replace("[]", "[ ]"), 1001)
    assert watch.edited() == [f"{pack}: edited"]
    assert watch.edited() == []  # said once
    write(pack, PACK.replace("[]", "[ ]"), 1002)  # touched: same content
    assert watch.edited() == []
    write(pack, PACK, 1003)
    assert watch.edited() == [f"{pack}: back as loaded"]


def test_a_directory_of_packs_says_a_new_file_and_a_removed_one(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    write(rules / "a.yaml", PACK, 1000)
    watch = RuleFilesWatch([str(rules)])
    write(rules / "b.yml", PACK, 1001)
    assert watch.edited() == [f"{rules / 'b.yml'}: a new rule file, not loaded"]
    (rules / "a.yaml").unlink()
    assert watch.edited() == [f"{rules / 'a.yaml'}: removed"]
    rules.rename(tmp_path / "gone")  # the directory itself gone: no crash, nothing more to say of its files
    assert watch.edited() == [f"{rules / 'b.yml'}: removed"]


def test_the_note_says_the_process_still_runs_what_it_started_with() -> None:
    note = edited_rules_note(["desk.yaml: edited"], "abc123")
    assert "desk.yaml: edited" in note and "still runs the rules it started with (fingerprint abc123)" in note


def test_the_background_watch_says_what_changed(tmp_path: Path) -> None:
    pack = tmp_path / "desk.yaml"
    write(pack, PACK, 1000)
    said: list[list[str]] = []
    heard = threading.Event()
    stop = watch_in_background(RuleFilesWatch([str(pack)]), lambda c: (said.append(c), heard.set()), every=0.05)
    try:
        write(pack, PACK + "# a comment\n", 1001)
        assert heard.wait(60), "the watch said nothing"  # a bound on a slow machine, not a measurement
    finally:
        stop.set()
    assert said[0] == [f"{pack}: edited"]
