"""Tracing day D: the input plan, the rules as parameters, curating, writing and the manifest, shared by the two
engines beside each other in `spark/` and `duckdb/`, which give the same results."""
