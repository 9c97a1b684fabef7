"""extgw-tui: the administrators' terminal tool for External Gateway users."""

__version__ = "0.1.0"
