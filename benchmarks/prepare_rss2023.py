"""Map the 2023 world-news RSS corpus (../shared/data, or $WATCHFLOOR_DATA) to watchfloor's input JSONL, once.

The corpus keeps its feeds' own fields (title, description, date_published, link); `watchfloor backtest`
reads the input contract (type, published_at, source, title/body). This writes one input file per feed to the
benchmarks' cache (cached: a second run only prints) and prints their directory, so the README's claim can be
checked from the command line:

    .venv/bin/python benchmarks/prepare_rss2023.py
    .venv/bin/watchfloor backtest $(.venv/bin/python benchmarks/prepare_rss2023.py)/*.jsonl
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepared_rss2023  # the benchmarks' own helpers, beside this file


def main() -> int:
    files = prepared_rss2023()
    print(files[0].parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
