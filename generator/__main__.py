"""``python -m generator`` runs the command line."""

import sys

# Guarded: where new processes are spawned (Windows, macOS), the child that reads
# the reference pages imports this module again and must not run the CLI.
if __name__ == "__main__":
    try:
        from .cli import main
    except KeyboardInterrupt:  # Ctrl-C while still importing: nothing was touched
        sys.exit(130)
    sys.exit(main())
