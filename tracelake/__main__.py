"""`python -m tracelake` is the `tracelake` console script."""

from tracelake.cli import main

main()
