"""The batch side of tracelake, one folder per stage: `trace/` (day D's contacts and tiers, in Spark or DuckDB),
`publish/` (what people read), `validation/`, `retention/` and `staff_check/`; `publication` commits a day's
outputs all at once for every stage."""
