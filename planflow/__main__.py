"""``python -m planflow`` runs the command line."""

from planflow.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports this module
    main()
