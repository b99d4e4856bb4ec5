"""A live `run` reads its rules at start; a pack edited under it is said, not silently ignored (outside trial 13, M1,
which found it for the Kafka workers; the embedded pipeline behaves the same)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures.watchfloor_process import WatchfloorProcess
from watchfloor.stream_processors.rulefile import builtin_dir

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"


def test_a_live_run_says_its_pack_was_edited_and_still_runs_what_it_started_with(tmp_path: Path) -> None:
    pack = tmp_path / "desk.yaml"
    shutil.copy(builtin_dir() / "dprk_russia.yaml", pack)
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack}]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        encoding="utf-8",
    )
    with WatchfloorProcess(["run", "--config", str(cfg), "--interval", "0.2"], tmp_path) as proc:
        proc.wait_for("polled 1 source")  # the first cycle is done: the rules were read
        # an edit that loads (a comment): a restart would take it
        pack.write_text(pack.read_text(encoding="utf-8") + "\n# edited by the desk\n", encoding="utf-8")
        said = proc.wait_for("rule files changed")
        assert f"{pack}: edited" in said and "still runs the rules it started with" in said, said
        assert "stop `watchfloor run` and start it again" in said, said
        # an edit that does not load ("treaty-RATIFIED" is no lower-case id): said so, not "start it again" (outside
        # trial 69, L5: the suggested restart then failed with exit 1)
        pack.write_text(pack.read_text(encoding="utf-8").replace("ratified", "RATIFIED"), encoding="utf-8")
        said = proc.wait_for("do not load")
        assert "as they are now they do not load, so a start would fail" in said, said
        assert "is not a lower-case slug" in said and "stop `watchfloor run` and start it again" not in said, said


def test_a_live_run_routes_by_an_edit_of_its_config_subscriptions(tmp_path: Path) -> None:
    # Outside trial 30, F4: an edit of the config's `subscriptions:` under a live run changed nothing it routed, and
    # nothing said so; a read-only-looking `subscriptions list` applied it instead.
    cfg = tmp_path / "watchfloor.yaml"
    feed, out = tmp_path / "in.jsonl", tmp_path / "desk.jsonl"
    feed.write_text("", encoding="utf-8")
    text = (
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {feed}}}\n"
        f"channels:\n  - {{type: file, name: desk, path: {out}}}\n"
    )
    cfg.write_text(text, encoding="utf-8")
    with WatchfloorProcess(["run", "--config", str(cfg), "--interval", "0.2"], tmp_path) as proc:
        proc.wait_for("polled 1 source")
        cfg.write_text(text + "subscriptions:\n  - {channel: desk}\npoll_interval: 5m\n", encoding="utf-8")
        said = proc.wait_for("subscriptions applied")
        assert f"the config file {cfg} changed: subscriptions applied (1 added, 0 removed)" in said, said
        said = proc.wait_for("poll_interval differ")
        assert "keeps using those until started again" in said, said
        feed.write_text((EVENTS / "treaty_story.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
        proc.wait_for("sent")  # the story's alerts went to the channel the edit subscribed, with no restart
    posted = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert posted, "nothing reached the channel the edit subscribed"


def test_a_live_run_says_an_edit_it_cannot_route_waits_for_a_restart(tmp_path: Path) -> None:
    cfg = tmp_path / "watchfloor.yaml"
    text = (
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n"
    )
    cfg.write_text(text, encoding="utf-8")
    with WatchfloorProcess(["run", "--config", str(cfg), "--interval", "0.2"], tmp_path) as proc:
        proc.wait_for("polled 1 source")
        cfg.write_text(
            text + f"channels:\n  - {{type: file, name: new, path: {tmp_path / 'new.jsonl'}}}\n"
            "subscriptions:\n  - {channel: new}\n",
            encoding="utf-8",
        )
        said = proc.wait_for("are not applied")
        assert "new is not a channel it started with" in said and "start this run again" in said, said
        said = proc.wait_for("channels differ")
        assert "keeps using those until started again" in said, said
    assert not (tmp_path / "new.jsonl").exists()


def test_a_live_notify_routes_by_an_edit_of_its_config_subscriptions(tmp_path: Path) -> None:
    # The notifier of the distributed pipeline, as a live `run` (outside trial 30, F4).
    from tests.functional.delivery_helpers import detection
    from watchfloor.schemas.events import detection_event
    from watchfloor.stream_processors.stores import open_store

    cfg, out = tmp_path / "watchfloor.yaml", tmp_path / "desk.jsonl"
    store = f"sqlite:///{tmp_path / 'wf.db'}"
    text = f"store: {store}\nrules: [builtin:dprk_russia]\nchannels:\n  - {{type: file, name: desk, path: {out}}}\n"
    cfg.write_text(text, encoding="utf-8")
    with WatchfloorProcess(["notify", "--config", str(cfg), "--interval", "0.2"], tmp_path) as proc:
        proc.wait_for("channel desk")  # its start-up check: it runs
        cfg.write_text(text + "subscriptions:\n  - {channel: desk}\n", encoding="utf-8")
        said = proc.wait_for("subscriptions applied")
        assert "(1 added, 0 removed)" in said, said
        st = open_store(store)
        try:
            st.append([detection_event(detection(1))])
        finally:
            st.close()
        proc.wait_for("1 sent")
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["det0001"]
