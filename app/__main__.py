"""`python -m app` is the same as the `captionist` command."""

from app.cli import main

raise SystemExit(main())
