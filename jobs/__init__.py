"""The batch side of tracelake: the trace job (contacts, tiers, exports) and its DuckDB twin."""
