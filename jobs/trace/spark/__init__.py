"""The trace in Spark: local mode on one host, or any cluster master."""
