"""Allow `python -m extgw_tui`."""

from extgw_tui.cli import main

raise SystemExit(main())
