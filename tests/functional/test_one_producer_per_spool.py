"""A second `produce` on the same spool is refused, naming the producer that holds it (outside trial 67, MED-2).

Two producers of one topic prefix shared the spool file `var/spool/PREFIX.jsonl` without a word, and each logged the
other's spooled documents as its own. Real processes: the first holds the spool's lock (an flock, released however
the process ends), the second refuses to start; once the first is killed (SIGKILL: no clean-up ran) one starts again.
No broker is needed: the claim comes before the broker is tried (the address given answers nothing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fixtures.watchfloor_process import WatchfloorProcess, command_env
from tests.functional.test_run_backlog import inbox_lines

NOBODY = "127.0.0.1:1"  # nothing listens there: a live produce waits for the broker, holding its spool


def test_a_second_produce_on_one_spool_is_refused_and_a_killed_ones_claim_is_not_stale(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.jsonl"
    inbox.write_text(inbox_lines(0, 3), encoding="utf-8")
    cfg = tmp_path / "desk.yaml"
    cfg.write_text(
        f"store: 'sqlite:///{tmp_path / 'outbox.db'}'\nsources:\n  - {{kind: jsonl, path: '{inbox}'}}\n"
        f"kafka: {{bootstrap: '{NOBODY}', prefix: wf-one}}\n",
        encoding="utf-8",
    )
    spool = tmp_path / "var" / "spool" / "wf-one.jsonl"
    args = ["produce", "--config", str(cfg)]
    with WatchfloorProcess(args, cwd=tmp_path) as first:
        started = first.wait_for("watchfloor produce")
        assert started.endswith(f" · spool {spool}"), started  # the start line names it (trial 67, LOW-6)
        second = subprocess.run(
            [sys.executable, "-m", "watchfloor", *args, "--once"],
            cwd=tmp_path, env=command_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert second.returncode == 1, second.stderr
        said = " ".join(second.stderr.split())
        assert f"another `watchfloor produce` (pid {first.proc.pid} on" in said, said
        assert f"is using the spool {spool}" in said, said
        first.kill()  # SIGKILL: its lock file stays, its flock goes with the process
    assert spool.with_name("wf-one.jsonl.producer.lock").is_file()
    with WatchfloorProcess(args, cwd=tmp_path) as again:
        # its start line comes after the claim: it runs (and is stopped here, as the first was)
        again.wait_for("watchfloor produce")
        assert not any("is using the spool" in line for line in again.said), again.said
