"""tracelake: the shared core (`core/`), and on top of it the CLI (`cli/`) and Airflow's tasks (`airflow/`)."""

__version__ = "0.1.0"
