"""`python -m console` runs the signoff command."""

from console.cli import main

main()
