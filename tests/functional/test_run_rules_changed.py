"""A `run` whose rules changed since the last one says that they read only what comes next (outside trial 14, M1:
a rule added and `run` restarted read none of the documents already in the log, and nothing said so)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.log_lines import unstamped
from watchfloor.cli import app
from watchfloor.stream_processors.rulefile import builtin_dir
from watchfloor.web.activity import heartbeat

pytestmark = pytest.mark.functional

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
runner = CliRunner()


def test_run_says_when_its_rules_changed_since_the_last_run(tmp_path: Path) -> None:
    pack = tmp_path / "desk.yaml"
    shutil.copy(builtin_dir() / "dprk_russia.yaml", pack)
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack}]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        encoding="utf-8",
    )
    said = "the rules changed since the last run"
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 0 and said not in first.output, first.output
    again = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert again.exit_code == 0 and said not in again.output, again.output

    title = 'title: "{party} ratified the DPRK–Russia treaty"'
    assert title in pack.read_text(encoding="utf-8")
    pack.write_text(pack.read_text(encoding="utf-8").replace(title, title.replace("ratified", "has ratified")))
    changed = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    text = " ".join(changed.output.split())
    assert changed.exit_code == 0 and said in text, changed.output
    assert "were read by the earlier rules and are not read again" in text, text
    assert f"watchfloor backtest --from-store sqlite:///{tmp_path / 'wf.db'} --rules {pack}" in text, text
    # Said once: the next run reads with the rules it recorded.
    later = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert later.exit_code == 0 and said not in later.output, later.output


def test_run_says_when_only_the_watchfloor_version_changed(tmp_path: Path) -> None:
    # Outside trial 15, M1: an upgrade is not a change of rules; the line says which it was.
    from watchfloor.stream_processors.fingerprint import legacy_fingerprint, rules_fingerprint
    from watchfloor.stream_processors.ports import Checkpoint
    from watchfloor.stream_processors.runner import RULES_IN_USE
    from watchfloor.stream_processors.stores import open_store
    from watchfloor.wiring import build_engine

    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [builtin:dprk_russia]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        encoding="utf-8",
    )
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    rules = build_engine(["builtin:dprk_russia"])
    # As a release with the mark wrote it, then as one of before the mark (one digest) with these very rules.
    for older, said in (
        (rules_fingerprint(rules, version="0.0.9"), "(0.0.9)"),
        (legacy_fingerprint(rules), "(a release of before fingerprints named it)"),
    ):
        st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
        seen = st.load_checkpoint(RULES_IN_USE)
        st.commit(RULES_IN_USE, Checkpoint(seen.position, {"fingerprint": older}), [], since=seen.position)
        st.close()
        upgraded = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
        text = " ".join(upgraded.output.split())
        assert upgraded.exit_code == 0, upgraded.output
        assert "the watchfloor version changed since the last run" in text, text
        assert f"the same rules on another watchfloor version {said}" in text, text
        # A backtest of the store with these rules has nothing to say of them.
        replay = runner.invoke(app, ["backtest", "--from-store", f"sqlite:///{tmp_path / 'wf.db'}", "--order", "log"])
        assert replay.exit_code == 0 and "note: the rules" not in replay.output, replay.output


def test_a_run_says_when_another_started_on_its_store_with_other_rules(tmp_path: Path) -> None:
    """Trial 33, L4: two live `run`s on one store with different packs (a rolling restart during a rules change),
    and neither said a word; which pack judged a document depended on which process took it. The one running says
    it at its next cycle, once, naming both fingerprints (the one starting records its own and says the change), as
    a start it knows of, not as a process it knows to be running; the same rules on another release as such; and a
    second start with other rules after its own fingerprint was recorded again, again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from watchfloor.stream_processors.fingerprint import rules_fingerprint
    from watchfloor.stream_processors.ports import Checkpoint
    from watchfloor.stream_processors.runner import RULES_IN_USE
    from watchfloor.stream_processors.stores import open_store
    from watchfloor.wiring import build_engine

    repo = Path(__file__).resolve().parents[2]
    pack = tmp_path / "desk.yaml"
    shutil.copy(builtin_dir() / "dprk_russia.yaml", pack)
    edited = tmp_path / "desk2.yaml"
    text = pack.read_text(encoding="utf-8")
    title = 'title: "{party} ratified the DPRK–Russia treaty"'
    edited.write_text(text.replace(title, title.replace("ratified", "has ratified")), encoding="utf-8")
    configs = []
    for name, rules in (("old.yaml", pack), ("new.yaml", edited)):
        cfg = tmp_path / name
        cfg.write_text(
            f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{rules}]\n"
            f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
            encoding="utf-8",
        )
        configs.append(cfg)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env.update(PYTHONPATH=str(repo), PYTHONUNBUFFERED="1", WATCHFLOOR_NATIVE="0")
    theirs = rules_fingerprint(build_engine([str(edited)]))

    def record(fingerprint: str) -> None:  # as a process starting with it records it (note_rules)
        st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
        try:
            seen = st.load_checkpoint(RULES_IN_USE)
            st.commit(RULES_IN_USE, Checkpoint(seen.position, {"fingerprint": fingerprint}), [], since=seen.position)
        finally:
            st.close()

    def cycles() -> int:  # the cycles recorded on the store (its heartbeat): the running one's, after the --once
        st = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
        try:
            return heartbeat(st).cycles
        finally:
            st.close()

    def two_more_cycles() -> None:  # the running one has looked at the recorded fingerprint since (not a fixed sleep)
        until, seen = time.monotonic() + 120, cycles()
        while cycles() < seen + 2 and time.monotonic() < until:
            time.sleep(0.2)

    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", "run", "--config", str(configs[0]), "--interval", "0.3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out: list[str] = []
    said = "another process started on this store with other rules"
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # its first cycle done: its rules are recorded
            out.append(line)
            if unstamped(line)[0].startswith("polled "):  # (a live run's lines start with their time)
                break
        assert said not in "".join(out)
        started = runner.invoke(app, ["run", "--once", "--config", str(configs[1])])
        assert started.exit_code == 0, started.output
        assert "the rules changed since the last run" in " ".join(started.output.split()), started.output
        two_more_cycles()
        # The same rules on another release (an older one's process) is told as such, not as other rules; and once
        # the running one's own fingerprint is recorded again, a second start with other rules is told again.
        ours = rules_fingerprint(build_engine([str(pack)]))
        for fingerprint in (rules_fingerprint(build_engine([str(pack)]), version="0.0.9"), ours, theirs):
            record(fingerprint)
            two_more_cycles()
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    whole = " ".join(("".join(out) + rest).split())
    assert said in whole, whole
    assert whole.count(said) == 2, whole  # once per start, not at every cycle
    # It knows only that the other one started (the `--once` above had ended when it said so).
    assert "If it still runs, which rules judge a document depends on which process takes it" in whole, whole
    assert "while both run" not in whole and "stop the one you no longer want" in whole, whole
    assert f"fingerprint {theirs}: other rules (on watchfloor " in whole, whole
    upgrade = "another process started on this store with another watchfloor version (fingerprint "
    assert upgrade in whole and "the same rules on another watchfloor version (0.0.9)" in whole, whole
    assert whole.count(upgrade) == 1 and whole.count("which release judges a document") == 1, whole
    # A rolling upgrade is what the README's upgrade steps do: told as normal, not as "stop every run" (trial 78, F7).
    assert "to upgrade: stop every" not in whole and "A rolling upgrade or rollback in progress" in whole, whole


def test_a_thread_by_only_edit_is_told_as_a_threading_change_not_as_rules_to_backtest(tmp_path: Path) -> None:
    """Outside trial 79, F4: a restart after only `thread_by` changed (added, here) said "the rules changed … not read
    again … backtest", though no alert can differ: it says only the threads changed. Another edit after it is a change
    of rules as ever."""
    pack = tmp_path / "desk.yaml"
    shutil.copy(builtin_dir() / "dprk_russia.yaml", pack)
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(
        f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack}]\n"
        f"sources:\n  - {{kind: jsonl, path: {EVENTS / 'treaty_story.jsonl'}}}\n",
        encoding="utf-8",
    )
    first = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    text = pack.read_text(encoding="utf-8")
    assert "    group_by: [party]\n" in text
    pack.write_text(text.replace("    group_by: [party]\n", "    group_by: [party]\n    thread_by: []\n"))
    threaded = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    said = " ".join(" ".join(unstamped(threaded.output)).split())
    assert threaded.exit_code == 0, threaded.output
    assert "only the rules' thread_by changed since the last run" in said, said
    assert "the alerts are the same" in said and "no backtest to run" in said, said
    assert "the rules changed since the last run" not in said and "watchfloor backtest" not in said, said

    title = 'title: "{party} ratified the DPRK–Russia treaty"'
    pack.write_text(pack.read_text(encoding="utf-8").replace(title, title.replace("ratified", "has ratified")))
    changed = runner.invoke(app, ["run", "--once", "--config", str(cfg)])
    said = " ".join(changed.output.split())
    assert "the rules changed since the last run" in said and "only the rules' thread_by" not in said, said


def test_backtest_with_a_configs_bad_pack_names_the_configs_rules_not_a_rules_option(tmp_path: Path) -> None:
    """Outside trial 79, F5: `backtest --config` whose `rules:` names a pack with a mistake said `error: --rules: …`,
    an option nobody gave: it names the config's `rules` entry; `--rules` given still says `--rules`."""
    pack = tmp_path / "desk.yaml"
    text = (builtin_dir() / "dprk_russia.yaml").read_text(encoding="utf-8")
    pack.write_text(text.replace("    group_by: [party]\n", "    group_by: [party]\n    thread_by: [parti]\n"))
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: sqlite:///{tmp_path / 'wf.db'}\nrules: [{pack}]\nsources: []\n", encoding="utf-8")
    events = str(EVENTS / "treaty_story.jsonl")
    res = runner.invoke(app, ["backtest", events, "--config", str(cfg)], env={"COLUMNS": "300"})
    said = " ".join(res.output.split())
    assert res.exit_code == 1 and f"error: {cfg}: rules: {pack}:" in said and "thread_by 'parti'" in said, said
    assert "--rules" not in said, said
    res = runner.invoke(app, ["backtest", events, "--rules", str(pack)], env={"COLUMNS": "300"})
    assert res.exit_code == 1 and f"error: --rules: {pack}:" in " ".join(res.output.split()), res.output
