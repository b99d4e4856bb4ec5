"""A GDELT export is read within bounds: bytes unzipped per file, and the length of one row (trial 16, M1).

A 153 KB zip whose one member was 150 MiB of one row with no newline was read whole (`for raw in stream`), and
peak memory went 114 -> 581 MB. These tests count the bytes the reader takes out of the member, not memory or time.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import IO, Any, cast

import pytest

from watchfloor.producers import gdelt
from watchfloor.producers.gdelt import MAX_ROW_BYTES, GdeltOptions, read_gdelt, read_gdelt_archive
from watchfloor.producers.poller import gdelt_options
from watchfloor.schemas.config import GdeltSource
from watchfloor.schemas.events import DeadLetter, Document
from watchfloor.schemas.inputs import DEFAULT_MAX_BODY_CHARS

from .test_gdelt_producer import line, row

MiB = 1024 * 1024


class Counting:
    """A member stream that counts the bytes taken out of it (what was inflated for the reader)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.taken = 0

    def readline(self, limit: int = -1) -> bytes:
        got = self.inner.readline(limit)
        self.taken += len(got)
        return got

    def read(self, n: int = -1) -> bytes:
        got = self.inner.read(n)
        self.taken += len(got)
        return got

    def __iter__(self) -> Any:  # the old reader's way: a row whole, whatever its length
        for got in self.inner:
            self.taken += len(got)
            yield got

    def __enter__(self) -> Counting:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Counting]:
    streams: list[Counting] = []
    real_open = zipfile.ZipFile.open

    def open_counted(self: zipfile.ZipFile, *args: Any, **kwargs: Any) -> Any:
        stream = real_open(self, *args, **kwargs)
        if (args[1:2] or [kwargs.get("mode", "r")])[0] != "r":
            return stream  # (writing the bomb)
        streams.append(Counting(stream))
        return streams[-1]

    monkeypatch.setattr(zipfile.ZipFile, "open", open_counted)
    return streams


def bomb(size: int, *, before: list[str] = ()) -> bytes:  # type: ignore[assignment]
    """A zip of one member: `before` rows, then `size` bytes of one row with no newline. Small compressed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("20241024090000.export.CSV", "w") as member:
            for r in before:
                member.write((r + "\n").encode())
            chunk = b"1" * MiB
            for _ in range(size // MiB):
                member.write(chunk)
    return buf.getvalue()


def test_a_zip_bomb_is_given_up_on_after_the_unzipped_cap(counted: list[Counting]) -> None:
    data = bomb(64 * MiB, before=[line(row("1")), line(row("2"))])
    assert len(data) < 200_000  # small compressed, 64 MiB unzipped
    items = [x for _n, x in read_gdelt_archive(data, "x.zip", options=GdeltOptions(max_unzipped_bytes=2 * MiB))]
    assert [x.id for x in items if isinstance(x, Document)] == ["gdelt:1", "gdelt:2"]  # the rows before it stand
    dead = [x for x in items if isinstance(x, DeadLetter)]
    assert len(dead) == 1 and dead[0].line == 3 and dead[0].origin == "x.zip:20241024090000.export.CSV"
    assert dead[0].field == "max_unzipped_bytes" and "2,097,152" in dead[0].reason
    # Bounded: about the cap twice (the archive checked through first, a MiB piece at a time, then its rows read),
    # and a row piece, was taken out of the 64 MiB member.
    assert sum(s.taken for s in counted) <= (2 * MiB + MiB) + 2 * MiB + MAX_ROW_BYTES


def test_the_default_cap_is_a_multiple_of_the_download_cap() -> None:
    assert GdeltOptions().max_unzipped_bytes == 16 * 20 * MiB
    live = GdeltSource(url="http://data.example/gdeltv2/lastupdate.txt", max_bytes=MiB)
    assert gdelt_options(live).max_unzipped_bytes == 16 * MiB
    pinned = GdeltSource(path="exports/", max_unzipped_bytes=5 * MiB)
    assert gdelt_options(pinned).max_unzipped_bytes == 5 * MiB


def test_a_long_row_is_dead_lettered_and_the_rows_around_it_kept(tmp_path: Path) -> None:
    path = tmp_path / "e.CSV"
    long_row = "9\t" + "x" * (3 * MAX_ROW_BYTES)
    path.write_text("\n".join([line(row("1")), long_row, line(row("3"))]) + "\n", encoding="utf-8")
    reads: list[int] = []

    class Noted(io.BytesIO):
        """The file's bytes as a stream that notes how much each readline took."""

        def readline(self, limit: int | None = -1) -> bytes:
            got = super().readline(limit)
            reads.append(len(got))
            return got

    items = list(read_gdelt(path))
    # the same file's rows read as read_gdelt reads a member's (_read_members), from a stream that notes its reads
    member = iter([(str(path), cast(IO[bytes], Noted(path.read_bytes())))])
    noted = list(gdelt._read_members(member, GdeltOptions(), DEFAULT_MAX_BODY_CHARS, gdelt.lookups()))
    assert [(n, x.model_dump()) for n, x in noted] == [(n, x.model_dump()) for n, x in items]
    assert [(n, x.id) for n, x in items if isinstance(x, Document)] == [(1, "gdelt:1"), (3, "gdelt:3")]
    dead = [x for _n, x in items if isinstance(x, DeadLetter)]
    assert len(dead) == 1 and dead[0].line == 2 and dead[0].origin == str(path)
    assert f"row of {len(long_row) + 1:,} bytes" in dead[0].reason and dead[0].raw.startswith("9\tx")
    assert reads and max(reads) <= MAX_ROW_BYTES  # never a row whole


def test_a_row_at_the_limit_is_read_as_a_row() -> None:
    # A row of exactly MAX_ROW_BYTES (newline included) is read as a row (here refused for its over-long url, by
    # the input contract, not for its length).
    fields = row("1", url="https://example.org/" + "a" * (MAX_ROW_BYTES - len(line(row("1", url=""))) - 21))
    data = (line(fields) + "\n").encode()
    assert len(data) == MAX_ROW_BYTES
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("e.CSV", data)
    items = [x for _n, x in read_gdelt_archive(buf.getvalue(), "y.zip")]
    assert len(items) == 1
    assert not (isinstance(items[0], DeadLetter) and "row of" in items[0].reason), items
