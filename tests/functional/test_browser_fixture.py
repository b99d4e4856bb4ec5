"""The headless browser fixture renders a local page with its scripts run (the HTML report tests rely on it)."""

from __future__ import annotations

from pathlib import Path


def test_chromium_runs_a_page_script(chromium, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<!doctype html><html><body><p id=out>before</p>"
        "<script>document.getElementById('out').textContent = 'rendered by ' + 'script';</script></body></html>",
        encoding="utf-8",
    )
    assert "rendered by script" in chromium.dom(page.as_uri())
