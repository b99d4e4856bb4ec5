"""The HTML report marks Russian news text `lang="ru"` inside its English page (outside trial 57, LOW-3: a screen
reader and the browser's hyphenation read the Russian titles and sentences as English)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from watchfloor.cli import app

PACK = Path(__file__).resolve().parents[2] / "docs" / "examples" / "dprk_russia_ru.yaml"


def test_russian_titles_and_sentences_are_marked_russian_in_an_english_page(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    items = [
        {"id": "ru-1", "type": "news.article", "published_at": "2024-11-09T10:00:00+03:00", "source": "Пример",
         "title": "Договор с КНДР ратифицировала Государственная дума"},
        {"id": "en-1", "type": "news.article", "published_at": "2024-11-09T11:00:00+03:00", "source": "Example",
         "title": "Markets close higher"},
    ]  # fmt: skip
    events.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    page = tmp_path / "report.html"
    res = CliRunner().invoke(
        app,
        ["backtest", str(events), "--rules", str(PACK), "--html", str(page), "--received-at", "2024-11-10T00:00:00Z"],
    )
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert '<span lang="ru">Договор России и КНДР ратифицирован Россией</span>' in html, html[:3000]
    assert '<q><span lang="ru">Договор с КНДР ратифицировала Государственная дума</span></q>' in html
