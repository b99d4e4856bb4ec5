"""Background that recalls an exit without a time reads `recap` (outside trial 61, L3: a relative clause giving the
exit as the reason for criticism, and "follows Russia's departure from the deal", raised fresh high alerts five weeks
after the exit): "which / who … for <the words>", "follows / comes after <the words>". The exit reported, or wanted,
stays as it reads, and so does a bare "after", even before a possessive ("after Russia's exit from the deal"): the
day's news. Sentences written for these tests."""

from __future__ import annotations

import pytest

from .engine_helpers import DATA
from .test_modality_v2 import modality

PACK = str(DATA / "rules" / "en_deal_exit.yaml")


def reading(title: str) -> str:
    return modality("", "deal_exit", title=title, spec=PACK)[0]


@pytest.mark.parametrize(
    ("title", "want"),
    [
        # a relative clause gives the exit as the reason for what it says of its subject
        (
            "Moscow, which drew wide criticism for pulling out of the grain deal, told the summit it wants talks",
            "recap",
        ),
        ("The minister, who was blamed for quitting the grain deal, resigned", "recap"),
        ("Russia, which faces sanctions for its withdrawal from the export deal, hosts the forum", "recap"),
        # a verb that sets the news after the exit
        ("The new pact follows Russia's departure from the UN-backed grain deal", "recap"),
        ("The strikes came after Moscow's exit from the grain pact", "recap"),
        ("The corridor comes after Russia quit the grain deal", "recap"),
        # the exit itself reported, even with a relative clause after it
        ("Russia pulled out of the grain deal on Monday, which drew criticism", "asserted"),
        ("Russia quits the grain deal, which it says failed its farmers", "asserted"),
        # a "for" of what is wanted, not done
        ("Moscow, which has pushed for quitting the grain deal, sets terms", "asserted"),
        ("Lawmakers, who voted for leaving the grain deal, meet again", "asserted"),
        ("Moscow, which will be blamed for quitting the grain deal, says little", "future"),
        # a "for" with no word of judgement or punishment before it
        ("Moscow, which had its reasons for quitting the grain deal, says so", "asserted"),
        # "that" is as often "said that": no reading by it
        ("Officials said that Russia was criticised for quitting the grain deal", "asserted"),
        # a comma between the relative pronoun and the "for": the reason is not the clause's
        ("Kyiv, which backed the pact, scolded Moscow for quitting the grain deal", "asserted"),
        # "followed by" is what came next; "follows X in" does it now; a bare "after" stays the day's news
        ("Weeks of talks were followed by Russia's exit from the grain deal", "asserted"),
        ("Belarus follows Russia in quitting the grain deal", "asserted"),
        ("Panic followed overnight as Russia quit the grain deal", "asserted"),
        ("The chaos that followed left the grain deal in ruins", "asserted"),
        ("Prices jump after Russia quits the grain deal", "asserted"),
        ("Prices jump after Russia's exit from the grain deal", "asserted"),
    ],
)
def test_background_exit_reads_recap(title: str, want: str) -> None:
    assert reading(title) == want, title
