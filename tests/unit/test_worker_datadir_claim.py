"""A worker locks its data directory for its lifetime: a second one started from the same folder takes the next free
one and says so, and one given a directory another live worker holds is refused naming it (outside trial 39, L1: the
walkthrough's workers shared `var/faust/GROUP` without a word). flock: two opens conflict even in one process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from watchfloor.wiring import DatadirTaken, claim_worker_datadir


def test_the_default_moves_to_a_free_one_and_a_given_one_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "faust" / "desk-worker"
    first, lock1, said1 = claim_worker_datadir(base, chosen=False)
    assert (first, said1) == (base, None)
    second, lock2, said2 = claim_worker_datadir(base, chosen=False)
    assert second == base.with_name("desk-worker-2")
    assert said2 == f"{base} is another worker's: this one keeps its data in {second}"
    with pytest.raises(DatadirTaken) as e:
        claim_worker_datadir(base, chosen=True)
    assert f"the data directory {base} is in use by another worker (pid {os.getpid()} on" in str(e.value)
    # Released when its holder ends (here: its file closed): the default is free again.
    lock1.close()
    again, lock3, said3 = claim_worker_datadir(base, chosen=True)
    assert (again, said3) == (base, None)
    lock2.close()
    lock3.close()
