"""The bundle's entry point: the same `captionist` command, desktop app by default."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
