"""Map the 2023 world-news RSS corpus to watchfloor's input JSONL, once, and print the directory it is in.

The corpus keeps its feeds' own fields (title, description, date_published, link); `watchfloor backtest`
reads the input contract (type, published_at, source, title/body). This writes one input file per feed to the
benchmarks' cache (cached: a second run only prints) and prints their directory, so the README's claim can be
checked from the command line:

    .venv/bin/python benchmarks/prepare_rss2023.py
    .venv/bin/watchfloor backtest $(.venv/bin/python benchmarks/prepare_rss2023.py)/*.jsonl

Where it reads: $WATCHFLOOR_DATA/news_rss_2023/*.jsonl.gz, or, without WATCHFLOOR_DATA, ../shared/data beside
the checkout (see that folder's README); it exits with status 2 when the corpus is not there. Where it writes:
$WATCHFLOOR_BENCH_CACHE, else ~/.cache/watchfloor-bench, in a folder named after the corpus files' fingerprint.

Each item's id is the one watchfloor gives a record without `id`: its link (url). Some publishers re-issue a
page under the same link with other content (an explainer rewritten months later, an item listed again with a
new date, a feed whose link is its home page): 93 of its 171,112 items. A backtest keeps the first version, as
the ingest of a file does, and counts each later one as a bad record ("id 'doc-…' is already in the log with
different content"): they are the publishers', not this mapping's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cache_dir, prepared_rss2023, rss2023_dir  # the benchmarks' own helpers, beside this file


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Here it reads {rss2023_dir()} and writes under {cache_dir(make=False)}.",
    )
    ap.parse_args(argv)
    files = prepared_rss2023()
    print(files[0].parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
