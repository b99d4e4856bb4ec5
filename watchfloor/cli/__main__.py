"""`python -m watchfloor.cli`: the same as the `watchfloor` command."""

from . import main

main()
