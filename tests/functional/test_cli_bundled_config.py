"""The README's commands typed without --config, in a folder of one's own (outside trial 15, M5): they read the
bundled demo config, so every error of theirs says so and how to read one's own config (one note, said by the
CLI's one error exit, whatever the command), and a command refused by its checks makes no store, so that
`alerts list` and `status` keep saying there is none instead of reading an empty store as a healthy deployment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app

NOTE = "note: no --config given (nor $WATCHFLOOR_CONFIG), so this read the bundled demo config ("
HOW = "give --config FILE or set WATCHFLOOR_CONFIG to use your own"


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("WATCHFLOOR_CONFIG", "WATCHFLOOR_STORE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, " ".join(res.output.split())  # (a terminal's width folds long lines)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["subscriptions", "add", "desk", "--rule", "troop-engagement"],
            "error: unknown channel 'desk': use one of alerts-file, console or slack:CHANNEL_ID",
        ),
        (
            ["subscriptions", "add", "console", "--rule", "troop-engagment"],
            "error: unknown rule troop-engagment (did you mean troop-engagement?); known:",
        ),
        (["subscriptions", "add", "console", "--where", "place=Kurks"], "error: "),
        (["subscriptions", "add", "console", "--digest", "never"], "error: --digest: bad digest: 'never'"),
        (["silences", "add", "troop-engagement", "--channel", "desk"], "error: unknown channel 'desk'"),
        (["silences", "add", "troop-engagement", "--comment", "x" * 501], "reason is at most 500 characters"),
        (["silences", "add", "treaty-ratified", "--group", "Narnia"], "'Narnia' names no entity"),
        (["silences", "remove", "sil-0000000000"], "no store at"),
        (["subscriptions", "remove", "sub-0000000000"], "no store at"),
    ],
)
def test_a_refused_command_says_it_read_the_bundled_config_and_makes_no_store(
    fresh: Path, args: list[str], error: str
) -> None:
    code, said = _run(*args)
    assert code == 1 and error in said, said
    assert NOTE in said and HOW in said and "channels alerts-file and console" not in said, said
    assert f"store sqlite:///{fresh / 'var' / 'watchfloor.db'}, channels console and alerts-file)" in said, said
    assert not (fresh / "var").exists()
    # and the read commands still say there is no store, as before the refused command
    code, said = _run("alerts", "list")
    assert code == 1 and "no store at" in said and NOTE in said, said
    code, said = _run("status")
    assert code != 0 and "no store at" in said and "caught up" not in said, said
    assert not (fresh / "var").exists()


def test_with_a_config_given_there_is_no_note_and_an_accepted_command_makes_the_store(fresh: Path) -> None:
    cfg = fresh / "desk.yaml"
    cfg.write_text(
        "store: sqlite:///var/desk.db\nrules: [builtin:dprk_russia]\nchannels:\n  - {type: console, name: log}\n",
        encoding="utf-8",
    )
    code, said = _run("subscriptions", "add", "desk", "--config", str(cfg))
    assert code == 1 and "error: unknown channel 'desk': use one of log or slack:CHANNEL_ID" in said, said
    assert "note:" not in said and not (fresh / "var").exists()
    code, said = _run("subscriptions", "add", "log", "--rule", "troop-engagement", "--config", str(cfg))
    assert code == 0 and said.startswith("subscribed: sub-"), said
    assert (fresh / "var" / "desk.db").exists()
    # the bundled config's accepted command: no note either
    code, said = _run("subscriptions", "add", "console", "--rule", "troop-engagement")
    assert code == 0 and "note:" not in said and (fresh / "var" / "watchfloor.db").exists(), said


def test_run_refused_by_its_config_makes_no_store(fresh: Path) -> None:
    cfg = fresh / "desk.yaml"
    cfg.write_text(
        "store: sqlite:///var/desk.db\nrules: [builtin:dprk_russia]\nsources: []\nchannels:\n"
        "  - {type: console, name: log}\nsubscriptions:\n  - {channel: log, rules: [troop-engagment]}\n",
        encoding="utf-8",
    )
    code, said = _run("run", "--once", "--config", str(cfg))
    assert (
        code == 1
        and ("unknown rule 'troop-engagment' (did you mean 'troop-engagement'?) in the subscription of channel 'log'")
        in said
    ), said
    assert not (fresh / "var" / "desk.db").exists()
