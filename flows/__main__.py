"""``python -m flows``: the ``notices`` command."""

from flows.cli import main

raise SystemExit(main())
