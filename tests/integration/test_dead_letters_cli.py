"""Dead letters as a user meets them (audit 3, F3): `produce` says each refused input with its line and field, as
`ingest` and `run` do, and `watchfloor dead-letters` reads the whole dead-letter log back from the store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.test_distributed_commands import cli  # the subprocess CLI helper

GOOD = {"type": "news.article", "id": "good-1", "published_at": "2024-12-18T10:00:00+00:00", "source": "Wire"}
LINES = [
    json.dumps({**GOOD, "title": "A good report"}),
    json.dumps({**GOOD, "id": "no-offset", "published_at": "2024-12-18T10:00:00", "title": "x"}),
    json.dumps({**GOOD, "id": "empty"}),
    "{not json",
    json.dumps({**GOOD, "title": "The same id, other words"}),
]
BAD = {  # line -> the field each names (None: the line as a whole)
    2: "published_at",
    3: "body",
    4: None,
    5: "id",
}


def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def said_each(stderr: str, path: Path) -> None:
    lines = [" ".join(x.split()) for x in stderr.splitlines() if x.startswith("dead letter ")]
    assert len(lines) == len(BAD), stderr
    for (line, field), text in zip(sorted(BAD.items()), lines, strict=True):
        assert text.startswith(f"dead letter {path}:{line}"), text
        if field:
            assert f"(field {field}):" in text, text


def test_ingest_says_each_and_dead_letters_lists_them_back(tmp_path: Path) -> None:
    path, store = bad_file(tmp_path), f"sqlite:///{tmp_path / 'store.db'}"
    res = cli(tmp_path, "ingest", str(path), "--store", store)
    assert res.returncode == 0, res.stderr
    said_each(res.stderr, path)

    listed = cli(tmp_path, "dead-letters", "--store", store, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(x) for x in listed.stdout.splitlines()]
    assert [(r["line"], r["field"]) for r in rows] == sorted(BAD.items())
    assert all(r["origin"] == str(path) and r["stage"] == "ingest" and r["reason"] for r in rows)
    assert rows[2]["raw"] == "{not json"  # the input itself, to mend and send again

    table = cli(tmp_path, "dead-letters", "--store", store, "--last", "2")
    text = " ".join(table.stdout.split())
    assert table.returncode == 0 and "the newest 2 of 4" in text, table.stdout
    engine_only = cli(tmp_path, "dead-letters", "--store", store, "--stage", "engine")
    assert engine_only.stdout.strip() == "no dead letters match", engine_only.stdout
    missing = cli(tmp_path, "dead-letters", "--store", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.returncode == 1 and not (tmp_path / "none.db").exists(), missing.stderr  # a read makes no store


@pytest.fixture
def prefix(kafka_admin: Any) -> Iterator[str]:
    p = f"wf-deadletters-{uuid.uuid4().hex[:8]}"
    yield p
    try:
        kafka_admin.delete_topics([t for t in kafka_admin.list_topics() if t.startswith(p + ".")])
    except Exception:
        pass


@pytest.mark.integration
def test_produce_says_each_dead_letter(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    store = f"sqlite:///{tmp_path / 'outbox.db'}"
    args = ["--broker", kafka_bootstrap, "--prefix", prefix, "--store", store, "--once"]
    res = cli(tmp_path, "produce", str(path), *args)
    assert res.returncode == 0, res.stderr
    said_each(res.stderr, path)  # it said only the first ("4 input(s) dead-lettered, e.g. line 2: ...")
    assert "1 new document, 0 already seen, 4 dead letters · 1 sent to Kafka" in res.stderr, res.stderr
