"""What a running `run` says when another process starts on its store: an upgrade is normal, other rules are not."""

from __future__ import annotations

from watchfloor.stream_processors.runner import OtherStart, other_start_line


def flat(text: str) -> str:
    return " ".join(text.split())


def test_another_release_with_the_same_rules_is_told_as_a_rolling_upgrade() -> None:
    # Outside trial 78, F7: during the README's one-at-a-time upgrade the running `run` said "to upgrade: stop every
    # `watchfloor run` on the store, then start the new one", the opposite of the README.
    ours, theirs = "5ee9db9e6365-v0.1.0+d01d22718d", "5ee9db9e6365-v0.1.0"
    line = flat(other_start_line(OtherStart(theirs, "0.1.0"), ours))
    assert "another process started on this store with another watchfloor version" in line, line
    assert "stop every `watchfloor run`" not in line, line
    assert "A rolling upgrade or rollback in progress, one process at a time, is normal" in line, line
    assert "release 0.1.0+d01d22718d" in line and "the same rules on another watchfloor version (0.1.0)" in line, line
    assert "If it is not an upgrade, stop the process of the release you no longer want (0.1.0 or" in line, line


def test_other_rules_are_still_told_to_stop_one() -> None:
    ours, theirs = "5ee9db9e6365-v0.1.0", "aaaaaaaaaaaa-v0.1.0"
    line = flat(other_start_line(OtherStart(theirs, None), ours))
    assert "another process started on this store with other rules" in line, line
    assert "stop the one you no longer want (to change rules: stop every `watchfloor run` on the store" in line, line


def test_a_thread_by_only_difference_is_told_as_threading_not_as_other_rules() -> None:
    # Left of outside trial 79, F4: "other rules … to change rules: stop every run" for a pack whose thread_by alone
    # differs, which changes no alert.
    ours, theirs = "5ee9db9e6365-v0.1.0", "bbbbbbbbbbbb-v0.1.0"
    line = flat(other_start_line(OtherStart(theirs, None, threads_only=True), ours))
    assert "another process started on this store with other threading" in line, line
    assert "only the rules' thread_by differs" in line and "The alerts are the same" in line, line
    assert "other rules" not in line and "stop every `watchfloor run`" not in line, line
    assert "which thread a new story starts in depends on which process delivers it" in line, line
