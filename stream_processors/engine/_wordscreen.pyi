"""Types of the word screen's C extension (_wordscreen.c), built by scripts/build-native."""

from collections.abc import Sequence

class WordScreen:
    def __init__(
        self,
        *,
        words: bytes,
        word_offsets: bytes,
        uni_start: bytes,
        uni_atoms: bytes,
        bi_pairs: bytes,
        bi_start: bytes,
        bi_atoms: bytes,
        tri_words: bytes,
        tri_start: bytes,
        tri_atoms: bytes,
        prefixes: bytes,
        prefix_offsets: bytes,
        pre_start: bytes,
        pre_atoms: bytes,
        natoms: int,
        trig_start: bytes,
        trig: bytes,
        groups: tuple[tuple[str, ...], ...],
    ) -> None: ...
    def may_match(self, norm: str, starts: Sequence[int] | None = None, /) -> int: ...
    def held(self) -> tuple[set[str], int] | None: ...
    def atoms(self, norm: str, starts: Sequence[int] | None = None, /) -> list[int]: ...
