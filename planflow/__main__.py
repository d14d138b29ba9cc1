"""``python -m planflow`` runs the command line."""

from planflow.cli import main

main()
