"""English counts for people: "1 alert", "2 alerts", never "alert(s)" (outside trial 64, LOW-4).

Messages in a channel's language count through alerts.notifiers.wording (Russian has three forms); this is for the
English-only text of the CLI and of the ledger's details, at the bottom of the layers so every one can use it.
"""

from __future__ import annotations


def noun(n: int, singular: str, plural: str | None = None) -> str:
    """The noun alone in the form a count of `n` takes: noun(1, "label") "label", noun(2, "label") "labels" (for
    "the labels A, B", which names them rather than counts them)."""
    return singular if n == 1 else (plural or singular + "s")


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun in the form it takes: counted(1, "alert") "1 alert", counted(0, "alert") "0 alerts",
    counted(2, "entry", "entries") "2 entries"."""
    return f"{n} {noun(n, singular, plural)}"


__all__ = ["counted", "noun"]
