"""The DuckDB twin of the Spark trace job: the same rules in plain SQL, to cross-check and to compare speed."""

from jobs.trace.duckdb.engine import DuckDBEngine

__all__ = ["DuckDBEngine"]
