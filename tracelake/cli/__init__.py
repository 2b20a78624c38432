"""`tracelake`: one console script for every stage, and for the whole flow (`demo`, `run`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.table import Table

from tracelake.cli.console import console, stage_progress
from tracelake.core.days import parse_day
from tracelake.core.duckdb_memory import limit_memory
from tracelake.core.rules import Rules, RulesError, load_rules
from tracelake.core.settings import Settings

app = typer.Typer(
    help="tracelake: Kafka check-ins and Bluetooth sightings → Parquet lake → F1/F2 exposure tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
lake_app = typer.Typer(help="Look at the lake.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")

LakeOption = Annotated[str | None, typer.Option("--lake", help="Lake root (directory or URI); default TRACELAKE_LAKE.")]
DateOption = Annotated[str, typer.Option("--date", help="Local day D, YYYY-MM-DD.")]
RulesOption = Annotated[Path | None, typer.Option("--rules", help="Rules YAML; default the shipped vn-moh-2021.")]
CapacityOption = Annotated[
    Path | None,
    typer.Option("--capacity", help="CSV of calls a day per district (district_code,calls_per_day); "
                                    "default TRACELAKE_CAPACITY, else the rules' default for every district."),
]


def fail(message: str, code: int = 2) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _settings(lake: str | None = None) -> Settings:
    """The command's settings; every DuckDB database it opens from here on keeps to their memory limit."""
    settings = Settings(lake=lake) if lake else Settings()
    limit_memory(settings.duckdb_memory_limit, settings.duckdb_spill_root)
    return settings


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as problem:
        fail(f"--date: {problem}")


def _refuse_another_key(settings: Settings) -> None:
    """Stages that only read the vault need no key; a configured one the vault does not know is still refused:
    whatever lands next under it would join nothing already there."""
    from tracelake.core.vault import WrongKeyError, vouch_for_key

    if settings.pseudonymization_key is None:
        return
    try:
        vouch_for_key(settings.vault_location, settings.pseudonymization_key.get_secret_value().encode(), record=False)
    except WrongKeyError as problem:
        fail(str(problem))


def _rules(path: Path | None, settings: Settings) -> Rules:
    try:
        return load_rules(path if path is not None else settings.rules)
    except RulesError as problem:
        fail(str(problem))


def _capacity(path: Path | None, settings: Settings) -> dict[str, int]:
    """Calls a day per district, read before any work starts: a bad file costs nothing but a message."""
    from jobs.publish.capacity import CapacityError, read_capacity

    location = str(path) if path is not None else settings.capacity
    if location is None:
        return {}
    try:
        return read_capacity(location)
    except CapacityError as problem:
        fail(str(problem))


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory for <topic>.jsonl files.")],
    people: Annotated[int, typer.Option("--people", min=1)] = 100_000,
    day: DateOption = "2021-08-10",
    days: Annotated[int, typer.Option("--days", min=1, help="How many days up to D.")] = 3,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    malformed_share: Annotated[float, typer.Option("--malformed-share", min=0.0, max=0.99)] = 0.005,
) -> None:
    """Simulate a province: people, venues, check-ins, Bluetooth sightings and case reports."""
    from simulator import simulate as run_simulation

    with stage_progress("simulate") as advance:
        summary = run_simulation(people, _day(day), days=days, seed=seed, out=out, malformed_share=malformed_share,
                                 progress=advance)
    table = Table("topic", "events", title=f"Simulated {people:,} people, {days} day(s) up to {day}")
    for topic, count in summary.events.items():
        table.add_row(topic, f"{count:,}")
    console.print(table)
    console.print(f"Wrote {out}/<topic>.jsonl and {out}/simulation.json")


@app.command()
def broker(
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1.")] = 9092,
    partitions: Annotated[int | None, typer.Option("--partitions", min=1)] = None,
) -> None:
    """Run a local Kafka-protocol broker with the four topics until stopped (Ctrl-C)."""
    from streams.broker import serve_broker

    settings = Settings()
    serve_broker(port, partitions or settings.topic_partitions, announce=console.print, broker_bin=settings.broker_bin)


@app.command()
def publish(events: Annotated[Path, typer.Option("--events", help="Directory of <topic>.jsonl files.")]) -> None:
    """Send DIR/<topic>.jsonl to the configured Kafka cluster (TRACELAKE_BOOTSTRAP_SERVERS)."""
    from streams.publisher import PublishError, publish_events

    settings = Settings()
    if not settings.bootstrap_servers:
        fail("set TRACELAKE_BOOTSTRAP_SERVERS (or start `tracelake broker` and point at it)")
    _require_events(events)
    try:
        with stage_progress("publish") as advance:
            counts = publish_events(events, settings.bootstrap_servers, progress=advance)
    except PublishError as problem:
        fail(str(problem), code=1)
    for topic, count in counts.items():
        console.print(f"{topic}: {count:,} sent")


@app.command()
def land(
    lake: LakeOption = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Stop once every partition is drained.")] = False,
    members: Annotated[
        int, typer.Option("--members", min=1, help="Lander processes in the consumer group: one per core.")
    ] = 1,
    max_records: Annotated[
        int | None, typer.Option("--max-records", min=1, help="Records a segment closes at; default the lander's.")
    ] = None,
    max_bytes: Annotated[
        int | None, typer.Option("--max-bytes", min=1, help="Value bytes a segment closes at; default the lander's.")
    ] = None,
    max_span_ms: Annotated[
        int | None,
        typer.Option("--max-span-ms", min=1, help="Kafka-time span a segment closes at; default the lander's."),
    ] = None,
) -> None:
    """Consume the topics into the lake (raw + quarantine + identity vault), as a service or until idle.

    The lander service of a deployment (SIGTERM stops it cleanly); settings come from TRACELAKE_* variables.
    """
    from streams.fleet import MemberFailedError, land_in_parallel
    from streams.lander import BrokerUnavailableError
    from streams.lander import land as run_lander
    from streams.segments import SegmentLimits
    from tracelake.core.vault import MissingKeyError, WrongKeyError, resolve_key

    default = SegmentLimits()
    limits = SegmentLimits(
        max_records=max_records or default.max_records, max_bytes=max_bytes or default.max_bytes,
        max_span_ms=max_span_ms or default.max_span_ms,
    )
    settings = _settings(lake)
    if not settings.bootstrap_servers:
        fail("set TRACELAKE_BOOTSTRAP_SERVERS to the Kafka cluster to land from")
    try:
        key = resolve_key(settings, local_run=False)
    except MissingKeyError as problem:
        fail(str(problem), code=1)
    except WrongKeyError as problem:
        fail(str(problem))
    try:
        with stage_progress("land") as advance:
            if members > 1:
                counts = land_in_parallel(settings, key, until_idle, members, progress=advance, limits=limits)
            else:
                counts = run_lander(settings, key, until_idle=until_idle, progress=advance, limits=limits)
    except (BrokerUnavailableError, MemberFailedError) as problem:
        fail(str(problem), code=1)
    for topic in counts.landed:
        console.print(f"{topic}: {counts.landed[topic]:,} landed, {counts.quarantined.get(topic, 0):,} quarantined")


@lake_app.command("status")
def lake_status(lake: LakeOption = None) -> None:
    """Rows landed and quarantined per topic and day, files, and the lander's lag per partition."""
    from streams.status import lake_status as read_status

    status = read_status(_settings(lake))
    days = Table("topic", "day", "landed", "quarantined", "files", title="Lake")
    for row in status.days:
        days.add_row(row.topic, str(row.day), f"{row.landed:,}", f"{row.quarantined:,}", str(row.files))
    console.print(days)
    if status.lag:
        lag = Table("topic", "partition", "committed", "end", "lag", title="Lander lag")
        for item in status.lag:
            lag.add_row(item.topic, str(item.partition), str(item.committed), str(item.end), f"{item.lag:,}")
        console.print(lag)


@app.command()
def trace(
    day: DateOption,
    lake: LakeOption = None,
    rules: RulesOption = None,
    master: Annotated[str | None, typer.Option("--master", help="Spark master URL; default local.")] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="spark, or duckdb (the twin); default TRACELAKE_TRACE_ENGINE.")
    ] = None,
) -> None:
    """Find F0s, their F1 and F2 contacts for day D, and write the contact graph and exposure tables."""
    from jobs.trace.day import trace_day

    settings = _settings(lake)
    _refuse_another_key(settings)
    the_day = _day(day)
    the_rules = _rules(rules, settings)
    engine = engine or settings.trace_engine
    if engine not in ("spark", "duckdb"):
        fail("--engine must be spark or duckdb")
    with console.status(f"Tracing {the_day} with {engine}…"):
        result = trace_day(
            settings.lake, the_day, the_rules, vault=settings.vault_location,
            engine="duckdb" if engine == "duckdb" else "spark", spark_master=master or settings.spark_master,
            spark_driver_memory=settings.spark_driver_memory, earliest=settings.earliest_instant,
        )
    tiers = ", ".join(f"{tier} {count:,}" for tier, count in sorted(result.tier_counts.items()))
    console.print(f"rules {the_rules.version}: {tiers}")
    for name, where in result.outputs.items():
        console.print(f"{name}: {where}")
    console.print(f"manifest: {result.manifest}")


@app.command()
def run(
    events: Annotated[Path, typer.Option("--events", help="Directory of <topic>.jsonl files.")],
    lake: Annotated[str, typer.Option("--lake", help="Lake root directory.")],
    day: DateOption,
    rules: RulesOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail when a validation suite fails.")] = False,
    capacity: CapacityOption = None,
) -> None:
    """Publish events to Kafka, land, validate, trace and export day D."""
    from tracelake.cli.pipeline import run_pipeline

    settings = _settings(lake)
    the_day = _day(day)
    the_rules = _rules(rules, settings)
    calls = _capacity(capacity, settings)
    _require_events(events)
    with _pipeline_errors():
        result = run_pipeline(events, settings, the_day, the_rules, strict=strict, capacity=calls)
    _summary(result)


@app.command()
def demo(
    people: Annotated[int, typer.Option("--people", min=100, help="Simulated province size.")] = 20_000,
    day: DateOption = "2021-08-10",
    days: Annotated[int, typer.Option("--days", min=1)] = 3,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    lake: LakeOption = None,
) -> None:
    """The main job on an embedded default: simulate a province, stream it through Kafka, trace, export, report."""
    from simulator import simulate as run_simulation
    from tracelake.cli.pipeline import run_pipeline

    settings = _settings(lake)
    the_day = _day(day)
    the_rules = _rules(None, settings)
    calls = _capacity(None, settings)
    events = Path(settings.lake).resolve().parent / "demo-events"
    console.rule(f"tracelake demo: {people:,} people, {days} day(s) up to {the_day}")
    with stage_progress("simulate") as advance:
        run_simulation(people, the_day, days=days, seed=seed, out=events, progress=advance)
    with _pipeline_errors():
        result = run_pipeline(events, settings, the_day, the_rules, capacity=calls)
    _summary(result)


@contextmanager
def _pipeline_errors() -> Iterator[None]:
    """Faults a person can act on end in one clear line and a non-zero exit, not a traceback."""
    from jobs.validation import ValidationFailed
    from streams.broker import BrokerError
    from streams.fleet import MemberFailedError
    from streams.lander import BrokerUnavailableError
    from streams.publisher import NoEventsError, PublishError
    from tracelake.core.vault import WrongKeyError

    try:
        yield
    except (NoEventsError, RulesError, WrongKeyError) as problem:
        fail(str(problem))
    except (BrokerError, BrokerUnavailableError, MemberFailedError, PublishError, ValidationFailed) as problem:
        fail(str(problem), code=1)


def _require_events(events: Path) -> None:
    from schemas import TOPICS

    if not events.is_dir():
        fail(f"--events: {events} is not a directory")
    if not any((events / f"{topic}.jsonl").is_file() for topic in TOPICS):
        fail(f"--events: {events} holds none of " + ", ".join(f"{t}.jsonl" for t in TOPICS))


def _prediction(rows: list[dict[str, Any]]) -> None:
    """The predictive table: of the people each rule flagged F1, the share that became F0 within the follow-up."""
    if not rows:
        return
    table = Table(
        "rule", "flagged F1", "became F0", "pending", "share", "95 % interval",
        title="How well each rule predicts (exact: for the operator and tracers)",
    )
    for row in rows:
        table.add_row(
            f"{row['breakdown'].replace('_', ' ')}: {row['label']}", f"{row['flagged']:,}", f"{row['became_f0']:,}",
            f"{row['pending']:,}", f"{100 * row['share']:.1f} %",
            f"{100 * row['ci_low']:.1f}-{100 * row['ci_high']:.1f} %",
        )
    console.print(table)


def _summary(result: object) -> None:
    from tracelake.cli.pipeline import PipelineResult

    assert isinstance(result, PipelineResult)
    table = Table("topic", "events in", "landed", "quarantined", title=f"Day {result.day}")
    for topic, count in result.published.items():
        table.add_row(topic, f"{count:,}", f"{result.landed.get(topic, 0):,}", f"{result.quarantined.get(topic, 0):,}")
    console.print(table)
    tiers = ", ".join(f"[bold]{tier}[/] {count:,}" for tier, count in sorted(result.tiers.items()))
    console.print(f"Cases and contacts: {tiers}")
    console.print(
        f"Today's calls: [bold]{result.to_call:,}[/] to call (worklists), [bold]{result.to_notify:,}[/] to text "
        "(notifications) within each district's calls a day"
    )
    if result.changes:
        changed = ", ".join(f"{count:,} {change}" for change, count in result.changes.items())
        console.print(f"Since the previous published day: {changed} (exports/changes)")
    _prediction(result.prediction)
    console.print("Stages: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in result.timings.items()))
    for line in result.headlines:
        console.print(line)
    for problem in result.validation_problems:
        console.print(f"[yellow]validation:[/] {problem}")
    outputs = Table("output", "where", title="Outputs")
    for name, where in result.outputs.items():
        outputs.add_row(name, where)
    console.print(outputs)
    duckdb_file = result.outputs.get("duckdb")
    if duckdb_file:
        query = "SELECT tier, count(*) AS people FROM exposures GROUP BY tier ORDER BY tier"
        console.print(f"Try: [bold]duckdb -readonly {duckdb_file} -c \"{query}\"[/]")
        console.print(
            f"  (without the duckdb CLI: [bold].venv/bin/python -c \"import duckdb; "
            f"print(duckdb.connect('{duckdb_file}', read_only=True).sql('{query}'))\"[/])"
        )


@app.command("province-report")
def province_report(
    day: DateOption,
    lake: LakeOption = None,
    rules: RulesOption = None,
    visitor_floor: Annotated[int, typer.Option("--visitor-floor", min=1, help="Withhold smaller public ranges.")] = 5,
) -> None:
    """Risky-venue notices, QR-point compliance, Bluezone coverage, venue risk and the epidemic map for day D."""
    from jobs.publish.province import ProvinceInputError, build_province_outputs

    settings = _settings(lake)
    try:
        summary = build_province_outputs(settings.lake, _day(day), _rules(rules, settings), visitor_floor=visitor_floor)
    except ProvinceInputError as problem:
        fail(str(problem), code=1)
    for line in summary.headline():
        console.print(line)
    console.print(f"map: {summary.map_path}")


@app.command()
def export(
    day: DateOption, lake: LakeOption = None, rules: RulesOption = None, capacity: CapacityOption = None
) -> None:
    """Rebuild everything people read for a traced day: worklists, province outputs, DuckDB file, report."""
    from jobs.publish.day import export_day

    settings = _settings(lake)
    _refuse_another_key(settings)
    exported = export_day(settings.lake, _day(day), _rules(rules, settings), vault=settings.vault_location,
                          capacity=_capacity(capacity, settings), quarantine_ceiling=settings.quarantine_ceiling)
    for line in exported.province.headline():
        console.print(line)
    for name, where in exported.paths.items():
        console.print(f"{name}: {where}")


@app.command("staff-check")
def staff_check(
    roster: Annotated[str, typer.Option("--roster", help="The agencies' staff roster, CSV (docs/sample-roster.csv).")],
    day: DateOption,
    days: Annotated[int, typer.Option("--days", help="Local days up to D to look at.")] = 7,
    lake: LakeOption = None,
    rules: RulesOption = None,
) -> None:
    """Which of an agency's staff checked in by QR code and ran Bluezone in the last days up to D."""
    from rich.markup import escape

    from jobs.staff_check import RosterError, StaffCheckError, check_staff, require_landed
    from tracelake.core.vault import VaultKeyError, resolve_key

    settings = _settings(lake)
    the_day = _day(day)
    the_rules = _rules(rules, settings)
    try:
        require_landed(settings.lake)
        key = resolve_key(settings, local_run=True)
        result = check_staff(settings.lake, roster, the_day, days, the_rules, key=key, vault=settings.vault_location)
    except (RosterError, StaffCheckError, VaultKeyError) as problem:
        fail(escape(str(problem)))
    for line in result.headline():
        console.print(line)
    for name, where in result.files.items():
        console.print(f"{name}: {escape(where)}")


@app.command()
def purge(
    before: Annotated[str, typer.Option("--before", help="First local day kept, YYYY-MM-DD; older days go.")],
    lake: LakeOption = None,
    rules: RulesOption = None,
) -> None:
    """Delete personal data of the days before --before, keeping what the days after it still need."""
    from jobs.retention.purge import first_day_kept
    from jobs.retention.purge import purge as run_purge

    settings = _settings(lake)
    try:
        first_kept = parse_day(before)
    except ValueError as problem:
        fail(f"--before: {problem}")
    the_rules = _rules(rules, settings)
    latest = first_day_kept(datetime.now(the_rules.zone).date(), the_rules)
    if first_kept > latest:
        fail(f"--before: {first_kept} would purge days still inside the {the_rules.retention_days}-day retention "
             f"window (retention_days of rules {the_rules.version}); the latest allowed today is {latest}")
    result = run_purge(settings.lake, settings.vault_location, first_kept, the_rules)
    if result.record is None:
        console.print(f"Nothing before {first_kept} to purge.")
        return
    table = Table("area", "table", "days", "files", "rows", "carried", title=f"Purged before {first_kept}")
    for purged in result.tables:
        days = f"{purged.days[0]} .. {purged.days[-1]} ({len(purged.days)})"
        table.add_row(purged.area, purged.table, days, f"{purged.files:,}", f"{purged.rows:,}",
                      f"{purged.rows_carried:,}")
    console.print(table)
    identities = result.identities
    console.print(f"identity vault: {identities.pairs_removed:,} pairs removed, {identities.files_rewritten:,} files "
                  f"rewritten, {identities.files_deleted:,} deleted")
    console.print(f"record: {result.record}")


@app.command()
def airflow() -> None:
    """Start Airflow standalone with tracelake's DAGs and settings."""
    from tracelake.airflow.launcher import run_standalone
    from tracelake.core.vault import MissingKeyError, WrongKeyError

    try:
        run_standalone(Settings())
    except MissingKeyError as problem:
        fail(str(problem), code=1)
    except WrongKeyError as problem:
        fail(str(problem))


SETTINGS_MODELS = ("Settings", "AirflowSettings")
"""Models read from the environment: their validation errors are a user's setting, said as such."""


def main() -> None:
    try:
        app()
    except ValidationError as problem:
        if problem.title not in SETTINGS_MODELS:
            raise
        for error in problem.errors():  # a TRACELAKE_* variable that does not parse
            name = "TRACELAKE_" + "_".join(str(part) for part in error["loc"]).upper()
            console.print(f"[bold red]error:[/] {name}={error['input']!r}: {error['msg']}")
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        sys.exit(130)
