"""The cached English forms table (stream_processors.forms_cache) gives every word the forms lemminflect's
tables give it, and a cache that is stale, damaged or cannot be written is never an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchfloor.stream_processors import forms_cache
from watchfloor.stream_processors.engine import morphology


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, morphology.EnTable]:
    """A cache written in a fresh directory and read back (marshal round trip)."""
    directory = tmp_path_factory.mktemp("cache")
    forms_cache.cached_table(directory)
    stamp = forms_cache.fingerprint()
    table = forms_cache.read_table(directory / forms_cache.file_name(stamp), stamp)
    assert table is not None
    return directory, table


def test_the_cache_gives_every_dictionary_word_the_forms_computed_from_lemminflect(
    built: tuple[Path, morphology.EnTable],
) -> None:
    _directory, table = built
    sets, index = table
    lemma_dict, lemma_over, *_rest = morphology._en_tables()
    words = {*lemma_dict, *lemma_over}
    assert set(index) == words and len(words) > 60_000
    for word in words:
        assert morphology.en_forms_in(table, word) == morphology._en_forms_of(word), word
    assert len(sets) < len(words)  # the forms of one lemma are kept once, not per word


@pytest.mark.parametrize("word", ["pyongyang", "kim", "crash", "ratified", "sent", "beings", "nationals", "xyzzy"])
def test_known_and_unknown_words_read_alike(built: tuple[Path, morphology.EnTable], word: str) -> None:
    assert morphology.en_forms_in(built[1], word) == morphology._en_forms_of(word)
    assert morphology.en_forms_in(built[1], "pyongyang") == {"pyongyang", "pyongyangs"}


def test_a_stale_or_damaged_cache_is_built_again(built: tuple[Path, morphology.EnTable], tmp_path: Path) -> None:
    stamp = forms_cache.fingerprint()
    path = tmp_path / forms_cache.file_name(stamp)
    assert forms_cache.write_table(path, ("old", *stamp[1:]), built[1])
    assert forms_cache.read_table(path, stamp) is None  # made from other data or rules
    path.write_bytes(path.read_bytes()[:1000])
    assert forms_cache.read_table(path, stamp) is None  # cut short
    path.write_bytes(b"not marshal at all")
    assert forms_cache.read_table(path, stamp) is None
    assert forms_cache.cached_table(tmp_path) == built[1]
    assert forms_cache.read_table(path, stamp) == built[1]  # written again, whole


def test_two_installs_keep_two_files() -> None:
    """Two virtualenvs on one machine (lemminflect's files at other paths, other times) must not overwrite
    each other's table at every run."""
    stamp = forms_cache.fingerprint()
    other = (*stamp[:2], tuple((name, size, mtime + 1) for name, size, mtime in stamp[2]))
    assert forms_cache.file_name(stamp) != forms_cache.file_name(other)
    assert forms_cache.file_name(stamp) == forms_cache.file_name(forms_cache.fingerprint())


def test_a_cache_that_cannot_be_written_is_not_an_error(built: tuple[Path, morphology.EnTable], tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the cache directory would be")
    assert forms_cache.cached_table(blocked) == built[1]
    stamp = forms_cache.fingerprint()
    assert not forms_cache.write_table(blocked / forms_cache.file_name(stamp), stamp, built[1])
    assert list(tmp_path.iterdir()) == [blocked]  # no temporary file left behind
