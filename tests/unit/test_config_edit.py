"""A config edited under a live `run` (outside trial 30, F4): its `subscriptions:` reach the store's routing when the
run can route them, and what waits for a restart is named."""

from __future__ import annotations

from pathlib import Path

from watchfloor.alerts.control import ControlLog
from watchfloor.config import load_config
from watchfloor.config_edit import apply_config_edit, config_changes, edit_lines
from watchfloor.stream_processors.rulefile import load_rules
from watchfloor.stream_processors.stores.memory import MemoryStore

BASE = "store: memory://\nrules: [builtin:dprk_russia]\nchannels:\n  - {type: console, name: desk}\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def started(tmp_path: Path, text: str) -> tuple[Path, ControlLog]:
    path = write(tmp_path / "watchfloor.yaml", text)
    control = ControlLog(MemoryStore())
    control.reconcile_config(load_config(path).subscriptions)  # as the run's start did
    return path, control


RULES = load_rules(["builtin:dprk_russia"])[1]


def active(control: ControlLog) -> list[tuple[str, str | None]]:
    st = control.refresh()
    return sorted((s.channel, s.min_severity) for s in st.subscriptions.values())


def test_an_added_subscription_reaches_the_routing_and_is_said(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE)
    cfg = load_config(path)
    write(path, BASE + "subscriptions:\n  - {channel: desk, min_severity: high}\n")
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.applied == (1, 0) and edit.changed == [] and edit.error is None
    assert active(control) == [("desk", "high")]
    (line,) = edit_lines(path, edit)
    assert "subscriptions applied (1 added, 0 removed)" in line and "start" not in line, line


def test_a_removed_subscription_leaves_the_routing(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE + "subscriptions:\n  - {channel: desk}\n")
    cfg = load_config(path)
    assert active(control) == [("desk", "low")]
    write(path, BASE)
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.applied == (0, 1) and active(control) == []


def test_a_subscription_to_a_channel_the_run_has_not_is_held_and_said(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE)
    cfg = load_config(path)
    write(
        path,
        BASE + "  - {type: console, name: troops}\nsubscriptions:\n  - {channel: troops}\n  - {channel: desk}\n",
    )
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.applied is None and active(control) == []  # none of it: a half-applied edit routes neither way
    assert edit.changed == ["channels"]
    held, rest = edit_lines(path, edit)
    assert "not applied (troops is not a channel it started with)" in held, held
    assert "channels differ from what this run started with" in rest and "until started again" in rest, rest


def test_a_subscription_to_a_rule_the_run_does_not_run_is_held(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE)
    cfg = load_config(path)
    write(path, BASE + "subscriptions:\n  - {channel: desk, rules: [troops-deployd]}\n")
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.applied is None and edit.held is not None and "troops-deployed" in edit.held, edit.held
    assert active(control) == []


def test_an_edit_that_does_not_load_keeps_everything(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE + "subscriptions:\n  - {channel: desk}\n")
    cfg = load_config(path)
    write(path, BASE + "subscriptions:\n  - {channel: desk\n")
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.error is not None and active(control) == [("desk", "low")]
    (line,) = edit_lines(path, edit)
    assert "does not load, so this run goes on as it is" in line and "YAML" in line, line


def test_an_edit_that_does_not_load_after_one_applied_keeps_the_applied_one_and_says_so(tmp_path: Path) -> None:
    """Trial 42, LOW-2: "keeps what it started with", while the routing stayed on the subscriptions edit applied
    before the bad one (as it should)."""
    path, control = started(tmp_path, BASE + "subscriptions:\n  - {channel: desk}\n")
    cfg = load_config(path)
    write(path, BASE + "subscriptions:\n  - {channel: desk, min_severity: high}\n")
    assert apply_config_edit(path, cfg, control, {"desk"}, RULES).applied == (1, 1)
    write(path, BASE + "subscriptions:\n  - {channel: desk, min_severity: low\n")
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.error is not None and active(control) == [("desk", "high")]  # the applied edit, not the start's
    (line,) = edit_lines(path, edit)
    assert "started with: " not in line and "keeps what it started with" not in line, line
    assert (
        "does not load, so this run goes on as it is (its `subscriptions:` as last applied from the file, the rest "
        "as it started with): " in line
    ), line


def test_other_settings_are_named_and_subscriptions_still_applied(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE)
    cfg = load_config(path)
    write(path, BASE + "poll_interval: 5m\nsubscriptions:\n  - {channel: desk}\n")
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.applied == (1, 0) and edit.changed == ["poll_interval"]
    applied, rest = edit_lines(path, edit)
    assert "subscriptions applied" in applied and "poll_interval differ" in rest, (applied, rest)


def test_a_comment_edit_says_nothing_differs(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE)
    cfg = load_config(path)
    write(path, "# the desk's config\n" + BASE)
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.applied == (0, 0)
    assert edit_lines(path, edit) == [f"the config file {path} changed: nothing this run uses differs"]


def test_another_store_holds_the_subscriptions(tmp_path: Path) -> None:
    path, control = started(tmp_path, BASE)
    cfg = load_config(path)
    write(
        path, BASE.replace("memory://", f"sqlite:///{tmp_path / 'other.db'}") + "subscriptions:\n  - {channel: desk}\n"
    )
    edit = apply_config_edit(path, cfg, control, {"desk"}, RULES)
    assert edit.held == "the config names another store" and edit.changed == ["store"] and active(control) == []


def test_config_changes_lists_settings_in_the_config_order(tmp_path: Path) -> None:
    a = load_config(write(tmp_path / "a.yaml", BASE + "poll_interval: 1m\n"))
    b = load_config(
        write(tmp_path / "b.yaml", BASE + "poll_interval: 2m\nretention_days: 3\nsubscriptions:\n  - {channel: desk}\n")
    )
    assert config_changes(a, b) == ["poll_interval", "retention_days"]
