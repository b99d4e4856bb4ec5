"""A file backtest in event time says when its files list documents after later-dated ones beyond the lateness
(an outside user trial, M1): a live run that read the earlier lines in an earlier poll took those late, and the replay's
alerts may differ. Fixtures are short news items in our own words; the bundled pack's lateness is 2 days."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

runner = CliRunner()
NOTE = "come after one of the same file dated more than the allowed lateness (2d) later"


def backtest(*args: str | Path) -> str:
    res = runner.invoke(
        app, ["backtest", *map(str, args), "--received-at", "2024-12-01T00:00:00Z", "--near-misses", "0"]
    )
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())  # the note wraps at the terminal's width


def item(id_: str, when: str, title: str) -> dict[str, str]:
    when = f"{when}T08:00:00+00:00"
    return {"type": "news.article", "id": id_, "published_at": when, "source": "Wire", "title": title}


def write_jsonl(path: Path, items: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    return path


# An inbox appended out of order: the Kursk report of the 12th, then two reports of the 2nd and 3rd (more than two
# days behind it), then one of the 11th (within the lateness of the 12th).
INBOX = [
    item("ib-1", "2024-11-01", "Harbour cranes idle after storm in Incheon"),
    item("ib-2", "2024-11-12", "North Korean soldiers killed in fighting in Kursk, Kyiv says"),
    item("ib-3", "2024-11-02", "Pyongyang sends more troops to Russia, Seoul says"),
    item("ib-4", "2024-11-03", "Rice harvest below forecast in the south"),
    item("ib-5", "2024-11-11", "Ferry timetable changes for the winter"),
]


def test_documents_listed_after_later_dated_ones_are_counted_in_a_note(tmp_path: Path) -> None:
    output = backtest(write_jsonl(tmp_path / "inbox.jsonl", INBOX))
    assert f"note: 2 documents in these files each {NOTE}" in output, output
    assert "--order log" in output and "5 documents" in output


def test_log_order_says_nothing(tmp_path: Path) -> None:
    output = backtest(write_jsonl(tmp_path / "inbox.jsonl", INBOX), "--order", "log")
    assert NOTE not in output and "5 documents" in output, output


def test_a_file_in_date_order_says_nothing(tmp_path: Path) -> None:
    in_order = sorted(INBOX, key=lambda x: x["published_at"])
    output = backtest(write_jsonl(tmp_path / "inbox.jsonl", in_order))
    assert NOTE not in output and "5 documents" in output, output


def test_each_file_is_its_own_source(tmp_path: Path) -> None:
    # Live, each file is an origin of its own and event time is the minimum over them: a second file dated before
    # the first is not late for it.
    later = write_jsonl(tmp_path / "later.jsonl", INBOX[1:2])
    earlier = write_jsonl(tmp_path / "earlier.jsonl", [INBOX[0], INBOX[2], INBOX[3]])
    output = backtest(later, earlier)
    assert NOTE not in output and "4 documents" in output, output


def test_a_future_dated_document_does_not_make_the_others_late(tmp_path: Path) -> None:
    # Dated 2099 (a typo): it counts at its receive time and moves no watermark, live as here. (With a signal: a
    # future-dated line no rule can match is only an event time, which is dropped.)
    typo = item("ty-1", "2099-11-12", "Russian and North Korean troops fight together near Kursk")
    output = backtest(write_jsonl(tmp_path / "typo.jsonl", [typo, *sorted(INBOX, key=lambda x: x["published_at"])]))
    assert NOTE not in output and "6 documents" in output, output


def test_the_note_is_in_the_json_and_the_html_report(tmp_path: Path) -> None:
    # The HTML report is what a desk passes round: it says what the terminal said (outside trial 40).
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    backtest(write_jsonl(tmp_path / "inbox.jsonl", INBOX), "--json", out_json, "--html", out_html)
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["stats"]["documents_after_later_dated_in_file"] == 2
    assert any(NOTE in n for n in data["notes"]), data.get("notes")
    assert NOTE in " ".join(out_html.read_text(encoding="utf-8").split())
