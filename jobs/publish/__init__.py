"""What people read of a traced day: the tracers' worklists and notices, the province's public outputs, the
report and the analysts' DuckDB file."""
