"""Moved to extgw_tui.widgets.dbwork (widgets may not import screens).

This alias keeps branches started before the move importing; delete it once they have landed.
"""

from extgw_tui.widgets.dbwork import db_work, error_message

__all__ = ["db_work", "error_message"]
