"""``python -m generator`` runs the command line."""

import sys

from .cli import main

# Guarded: where new processes are spawned (Windows, macOS), the child that reads
# the reference pages imports this module again and must not run the CLI.
if __name__ == "__main__":
    sys.exit(main())
