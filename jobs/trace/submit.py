"""spark-submit entry: `spark-submit jobs/trace/submit.py --lake ... --date ... [--rules ...] [--vault ...]`.

The master, memory and cores come from spark-submit's own options, so the same
file runs in local mode or on a cluster; the tracing is `jobs.trace.day.trace_day`.
"""

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script, this file's folder comes first on the path, and its `duckdb` engine package would hide the
    # DuckDB library: the repository root takes that folder's place.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(here)]
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.trace.day import trace_day
from jobs.trace.spark.session import spark_session
from tracelake.core.days import parse_day
from tracelake.core.rules import RulesError, load_rules
from tracelake.core.settings import Settings


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="submit.py", description="Trace one local day D with Spark.")
    parser.add_argument("--lake", required=True, help="lake root: a directory or an object-store URI")
    parser.add_argument("--date", required=True, help="the local day D, YYYY-MM-DD")
    parser.add_argument("--rules", help="a rules YAML file (default: the shipped rules)")
    parser.add_argument("--vault", help="the identity vault (default: TRACELAKE_VAULT or <lake>-vault)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    try:
        day = parse_day(arguments.date)
        rules = load_rules(arguments.rules)
    except (ValueError, RulesError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    settings = Settings(lake=arguments.lake)
    vault = arguments.vault or settings.vault_location
    spark_session(submitted=True)
    result = trace_day(arguments.lake, day, rules, vault=vault, engine="spark", earliest=settings.earliest_instant)
    tiers = ", ".join(f"{tier}={count}" for tier, count in result.tier_counts.items())
    print(f"traced {result.day} with rules {result.rules_version}: {tiers}; manifest {result.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
