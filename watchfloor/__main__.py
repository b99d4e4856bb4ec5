"""`python -m watchfloor`: the same as the `watchfloor` command."""

from .cli import main

main()
