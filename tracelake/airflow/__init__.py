"""Airflow's side of tracelake: the launcher and the tasks the DAG files in `dags/` call. Every decision the tasks
take lives in `streams/` or `jobs/`; this package only turns their answers into Airflow's outcomes."""
