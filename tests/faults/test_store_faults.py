"""Store faults: many processes opening a fresh store, and stores that cannot be used, as every command meets them.

Each unusable store (missing path, corrupt or non-SQLite file, read-only filesystem, unreachable PostgreSQL)
must end every command with one line naming the store (password hidden) and exit code 1: no traceback, and
a read command must not create the store it was pointed at.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from tests.faults.readonly import require_readonly_mounts, run_readonly
from tests.fixtures.ledger import settle_row
from tests.fixtures.log_lines import unstamped
from watchfloor.cli import app
from watchfloor.stream_processors.stores import StoreError, open_store
from watchfloor.stream_processors.stores.migrations import add_column, current_version, latest_version
from watchfloor.stream_processors.stores.sql import SqlStore, events_table, normalize_url

REPO = Path(__file__).resolve().parents[2]
STORY = REPO / "tests" / "data" / "events" / "treaty_story.jsonl"
WATCHFLOOR = Path(sys.executable).parent / "watchfloor"
runner = CliRunner()

# A child process: wait for the go file (so that all open at once), open the store, write, report.
_OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from datetime import datetime, UTC
    from watchfloor.schemas.events import Event
    from watchfloor.stream_processors.stores.sql import SqlStore
    url, go, me, repo = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    sys.path.insert(0, repo)  # the tests' helper, wherever the child runs from
    from tests.fixtures.ledger import settle_row
    Path(f"{go}.{me}.ready").touch()  # imported: the parent says go once every child is here
    while not go.exists():
        time.sleep(0.001)
    store = SqlStore(url)
    t = datetime(2024, 1, 1, tzinfo=UTC)
    store.append([Event(id=f"{me}-{i}", type="signal", time=t, payload={"i": i}) for i in range(50)])
    settle_row(store, f"alert-{me}", "desk", "sent")  # with its delivery's event: 51 events a child
    store.close()
    print("ok")
    """
)


def _open_at_once(url: str, go: Path, n: int) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, url, str(go), f"p{i}", str(REPO)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    # Every child imported and at its wait before go: on a loaded machine a fixed pause (it was 1.5 s) let the go
    # come first, and the children opened the store one after another, which cannot find the race.
    ready = [Path(f"{go}.p{i}.ready") for i in range(n)]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready):
        if any(p.poll() is not None for p in procs):
            break  # a child failed before its wait: its stderr is in the results
        assert time.monotonic() < deadline, "the children did not reach their wait in 120 s"
        time.sleep(0.01)
    go.touch()
    done = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def test_four_processes_open_and_migrate_a_fresh_sqlite_store_at_once(tmp_path: Path) -> None:
    """Used to fail 'database is locked' (20 of 20 pipeline starts in the report, 1 in 10 opens here)."""
    for round_ in range(5):
        url = f"sqlite:///{tmp_path / f'fresh-{round_}.db'}"
        results = _open_at_once(url, tmp_path / f"go-{round_}", 4)
        assert [r.returncode for r in results] == [0] * 4, [r.stderr[-800:] for r in results if r.returncode]
        store = SqlStore(url)
        try:
            assert store.count() == 4 * 51
            assert [se.position for se in store.read(limit=1000)] == list(range(1, 4 * 51 + 1))
            assert current_version(store.engine) == latest_version()
        finally:
            store.close()


@pytest.mark.integration
def test_six_processes_open_and_migrate_a_fresh_postgres_schema_at_once(pg_url: str, tmp_path: Path) -> None:
    results = _open_at_once(pg_url, tmp_path / "go", 6)
    assert [r.returncode for r in results] == [0] * 6, [r.stderr[-800:] for r in results if r.returncode]
    store = SqlStore(pg_url)
    try:
        assert store.count() == 6 * 51
        assert current_version(store.engine) == latest_version()
    finally:
        store.close()


def test_a_store_from_before_versioning_is_migrated_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = SqlStore(url)
    settle_row(store, "a", "desk", "sent")
    store.close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:  # what a store of the previous release looks like: no version table
        conn.execute(text("DROP TABLE watchfloor_schema"))
    engine.dispose()
    again = SqlStore(url)
    try:
        assert again.delivery_status("a", "desk") == "sent"
        assert current_version(again.engine) == latest_version()
    finally:
        again.close()


def test_a_store_from_a_newer_watchfloor_is_refused_by_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    SqlStore(url).close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE watchfloor_schema SET version = version + 5"))
    engine.dispose()
    with pytest.raises(StoreError, match="made by a newer watchfloor") as info:
        SqlStore(url)
    assert info.value.kind == "newer"


def test_add_column_is_idempotent(tmp_path: Path) -> None:
    """What a later migration uses: on a fresh store the column is there already and nothing happens."""
    url = f"sqlite:///{tmp_path / 'cols.db'}"
    SqlStore(url).close()
    engine = create_engine(normalize_url(url))
    with engine.begin() as conn:
        add_column(conn, events_table, "key")  # exists: no-op
        assert [c["name"] for c in inspect(conn).get_columns("events")].count("key") == 1
    engine.dispose()


# -- unusable stores, as every command meets them ------------------------------------------------------------


def _commands(url: str, cfg: Path) -> dict[str, list[str]]:
    return {
        "alerts list": ["alerts", "list", "--store", url],
        "backtest --from-store": ["backtest", "--from-store", url],
        "ingest": ["ingest", str(STORY), "--store", url],
        "run --once": ["run", "--once", "--config", str(cfg)],
        "notify --once": ["notify", "--once", "--store", url, "--config", str(cfg)],
        "archive": ["archive", "--store", url, "--broker", "127.0.0.1:1", "--config", str(cfg)],
        "produce --once": ["produce", str(STORY), "--once", "--broker", "127.0.0.1:1", "--config", str(cfg)],
        "worker": ["worker", "--store", url, "--broker", "127.0.0.1:1", "--config", str(cfg)],
        "subscriptions list": ["subscriptions", "list", "--store", url, "--config", str(cfg)],
        "silences list": ["silences", "list", "--store", url, "--config", str(cfg)],
        "alerts redeliver": ["alerts", "redeliver", "--all-expired", "--store", url, "--config", str(cfg)],
        "alerts ack": ["alerts", "ack", "0d5bf1b03b7565b230e2", "--store", url, "--config", str(cfg)],
        # (Known rules: a command refuses an unknown one before it opens the store, which is not what is tested.)
        "subscriptions add": [
            "subscriptions",
            "add",
            "console",
            "--rule",
            "treaty-signed",
            "--store",
            url,
            "--config",
            str(cfg),
        ],
        "silences add": ["silences", "add", "treaty-signed", "--duration", "2h", "--store", url, "--config", str(cfg)],
        "run": ["run", "--config", str(cfg)],  # live: fails at start, not in a retry loop
        "serve": ["serve", "--config", str(cfg), "--port", "0"],
    }


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "watchfloor.yaml"
    cfg.write_text(f"store: {url!r}\nsources: []\nchannels: [{{type: console, name: console}}]\n", encoding="utf-8")
    return cfg


def _assert_one_line(output: str, exit_code: int, *expected: str) -> None:
    assert exit_code == 1, output
    assert "Traceback" not in output
    # (a live `run` stamps its lines with their UTC time from the first: the one line's text is what counts)
    lines = [line for line in unstamped(output.strip()) if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: store "), lines[0]
    for e in expected:
        assert e in lines[0], lines[0]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("corrupt", "is not a SQLite database, or is corrupt"),
        ("text-file", "is not a SQLite database, or is corrupt"),
        ("directory", "is a directory"),
    ],
)
def test_every_command_reports_an_unusable_sqlite_file_in_one_line(tmp_path: Path, fault: str, expected: str) -> None:
    db = tmp_path / "store.db"
    if fault == "corrupt":
        good = SqlStore(f"sqlite:///{db}")
        good.append([])
        good.close()
        data = bytearray(db.read_bytes())
        data[100:4096] = b"\xa5" * (4096 - 100)  # past the header: SQLite opens it, then finds garbage
        db.write_bytes(bytes(data))
    elif fault == "text-file":
        db.write_text("these are my notes, not a database\n" * 50, encoding="utf-8")
    else:
        db.mkdir()
    url = f"sqlite:///{db}"
    for name, argv in _commands(url, _config(tmp_path, url)).items():
        res = runner.invoke(app, argv)
        assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), (name, res.exception)
        _assert_one_line(res.output, res.exit_code, str(db), expected)


def test_read_commands_do_not_create_a_store_that_is_not_there(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    url = f"sqlite:///{db}"
    for argv in (
        ["alerts", "list", "--store", url],
        ["backtest", "--from-store", url],
        ["alerts", "redeliver", "--all-expired", "--store", url],
        ["alerts", "ack", "0d5bf1b03b7565b230e2", "--store", url],  # nothing to acknowledge where nothing ran
        ["subscriptions", "list", "--store", url],
        ["silences", "list", "--store", url],
    ):
        res = runner.invoke(app, argv)
        _assert_one_line(res.output, res.exit_code, f"no store at {db}")
        assert not db.exists()
        assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreError, match="no store at"):
        open_store(url, create=False)
    open_store(url).close()  # a write command creates it
    assert db.exists()


@pytest.mark.integration
def test_every_command_reports_unreachable_postgres_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://watch:s3cr3t-pw@127.0.0.1:1/watchfloor"
    for name, argv in _commands(url, _config(tmp_path, url)).items():
        res = runner.invoke(app, argv)
        assert "s3cr3t-pw" not in res.output, name
        _assert_one_line(res.output, res.exit_code, "watch:***@127.0.0.1:1", "cannot connect")


@pytest.mark.integration
def test_a_postgres_database_that_does_not_exist(postgres_url: str, tmp_path: Path) -> None:
    url = normalize_url(postgres_url).set(database="no_such_watchfloor_db").render_as_string(hide_password=False)
    res = runner.invoke(app, ["alerts", "list", "--store", url])
    _assert_one_line(res.output, res.exit_code, "no_such_watchfloor_db")


def test_every_command_on_a_read_only_filesystem(tmp_path: Path) -> None:
    """Real processes in a private mount namespace: the store's directory is mounted read-only."""
    require_readonly_mounts(tmp_path)
    var = tmp_path / "var"
    var.mkdir()
    url = f"sqlite:///{var / 'store.db'}"
    res = runner.invoke(app, ["ingest", str(STORY), "--store", url])
    assert res.exit_code == 0, res.output
    cfg = _config(tmp_path, url)
    broker = os.environ.get("WATCHFLOOR_TEST_KAFKA")  # archive and produce reach their broker first
    for name, argv in _commands(url, cfg).items():
        if name in ("archive", "produce --once"):
            if broker is None:
                continue
            # The broker swapped in, the test's config kept (without it they read the bundled demo config, whose
            # store error rightly ends with a note saying so: not the one line this test is about).
            argv = [*argv[: argv.index("--broker")], "--broker", broker, "--prefix", "wf-readonly-store"]
            argv += ["--config", str(cfg)]
        got = run_readonly(var, [str(WATCHFLOOR), *argv], cwd=tmp_path)
        _assert_one_line(got.stderr, got.returncode, "read-only filesystem")
    # A fresh store in a read-only directory: the command cannot create it, and says so.
    fresh = f"sqlite:///{var / 'sub' / 'new.db'}"
    got = run_readonly(var, [str(WATCHFLOOR), "ingest", str(STORY), "--store", fresh], cwd=tmp_path)
    assert got.returncode == 1 and "Traceback" not in got.stderr
    assert got.stderr.strip().splitlines() == [f"error: {var / 'sub'}: Read-only file system"]
