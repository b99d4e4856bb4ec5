"""`serve` and `run --serve` refuse a listener other machines can reach while the status page and /metrics need no
token, unless told `--public` (then they warn). Outside trial 16, M3: `serve --host 0.0.0.0` showed the store, feed
URLs and their errors, alert titles, subscriptions and silences to anyone, and said nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.functional.test_clean_stop import config, stop_after
from watchfloor.cli import app
from watchfloor.cli.serve import is_loopback

pytestmark = pytest.mark.functional


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.0.2.2", False), ("watchfloor.example.org", False)],
)  # fmt: skip
def test_which_hosts_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def _said(output: str) -> str:
    return " ".join(output.split())


def test_serve_on_every_interface_without_a_token_is_refused(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    res = CliRunner().invoke(app, ["serve", "--config", str(cfg), "--host", "0.0.0.0", "--port", str(free_port())])
    said = _said(res.output)
    assert res.exit_code == 1, said
    assert "refusing to serve the status page and /metrics on 0.0.0.0:" in said, said
    assert "admin_token_env" in said and "--public" in said, said


def test_run_serve_on_every_interface_without_a_token_is_refused(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    res = CliRunner().invoke(app, ["run", "--once", "--config", str(cfg), "--serve", f"0.0.0.0:{free_port()}"])
    said = _said(res.output)
    assert res.exit_code == 1 and "refusing to serve the status page and /metrics on 0.0.0.0:" in said, said


def test_public_serves_open_on_purpose_and_warns(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    args = ["serve", "--config", str(cfg), "--host", "0.0.0.0", "--port", str(free_port()), "--public"]
    code, said = stop_after(tmp_path, args, "warning")
    assert code == 0, said
    [warning] = [line for line in said if "warning" in line]
    assert "--public: the status page, /metrics and the full /healthz are open to anyone" in warning, said


def test_a_token_lets_serve_listen_on_every_interface_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tmp_path)
    cfg.write_text(cfg.read_text() + "serve: {admin_token_env: WF_TEST_ADMIN_TOKEN}\n", encoding="utf-8")
    monkeypatch.setenv("WF_TEST_ADMIN_TOKEN", "t0ken")
    code, said = stop_after(
        tmp_path, ["serve", "--config", str(cfg), "--host", "0.0.0.0", "--port", str(free_port())], "admin token"
    )
    assert code == 0 and not [line for line in said if "warning" in line], said
