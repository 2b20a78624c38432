"""Run the suites of one stage with Great Expectations and leave the Data Docs under the lake.

Each table is a view of the stage's DuckDB session (jobs.validation.session)
and Great Expectations validates it through its SQL data source, so every
expectation is a query DuckDB runs over the day's files: nothing is loaded
whole into pandas. The suites were written for pandas' semantics; `on_duckdb`
keeps them (patterns for RE2, row conditions in GX's own form).

The context is ephemeral (nothing to set up, nothing shared between runs)
except for two things kept in the day's validation directory,
`Lake.validation_day(D)`: the validation results (JSON, under `results/`) and
the Data Docs site built from them (`index.html`). Keeping the results there is
what makes the day's index list every run of that day, raw and outputs, first
and re-run. An object-store lake is staged through a local directory and
copied back, so the docs look the same wherever the lake lives.

Results keep counts only (`partial_unexpected_count: 0`): the docs of a failed
export check must not repeat the phone numbers that failed it.
"""

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow.fs as pafs

from jobs.validation.regex import re2_search_pattern
from jobs.validation.report import Failure, ValidationReport
from jobs.validation.session import CONNECTION_STRING, Session
from jobs.validation.suites import load_suite, parameters_of
from tracelake.core.lake import filesystem, join

SITE = "lake"
RESULTS_DIR = "results"
SUMMARY_FILE = "summary-{stage}.json"
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
SCOPE = "__"
"""Between a suite's name and the name of one of its parameters, in the checkpoint's parameters."""
PANDAS_CONDITION = re.compile(r'^\s*(\w+)\s*==\s*"([^"\\]*)"\s*$')
"""The one form of pandas row condition the suites use: a column equal to a string."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableBatch:
    """One table of the day as a view of the session, its rows, and the `$PARAMETER` values its suite needs."""

    suite: str
    view: str
    rows: int
    parameters: Mapping[str, Any]


@contextmanager
def _local_site(docs_root: str) -> Iterator[str]:
    """A local directory holding the day's docs: the lake's own directory, or a staged copy of it."""
    fs, path = filesystem(docs_root)
    if isinstance(fs, pafs.LocalFileSystem):
        os.makedirs(path, exist_ok=True)
        yield path
        return
    staging = tempfile.mkdtemp(prefix="tracelake-docs-")
    local = pafs.LocalFileSystem()
    try:
        if fs.get_file_info(path).type == pafs.FileType.Directory:
            pafs.copy_files(path, staging, source_filesystem=fs, destination_filesystem=local)
        yield staging
        fs.create_dir(path, recursive=True)
        pafs.copy_files(staging, path, source_filesystem=local, destination_filesystem=fs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _context(site: str) -> Any:
    """An ephemeral GX context whose results store and docs site live in `site`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    config.stores["validation_results_store"] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": join(site, RESULTS_DIR)},
    }
    config.data_docs_sites = {
        SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": site},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    return gx.get_context(project_config=config, mode="ephemeral")


def _failure(table: str, rows: int, result: Any) -> Failure:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    outcome: dict[str, Any] = dict(result.result or {})
    why = str((config.meta or {}).get("notes", ""))
    column = kwargs.get("column")
    if column is None and "column_A" in kwargs:
        column = f"{kwargs['column_A']}, {kwargs['column_B']}"
    if column is None and "column_list" in kwargs:
        column = ", ".join(kwargs["column_list"])
    exception = (result.exception_info or {}).get("exception_message") if result.exception_info else None
    if exception:
        return Failure(table, config.type, column, rows, rows, why, f"could not be evaluated: {exception}")
    if "unexpected_count" in outcome and outcome["unexpected_count"] is not None:
        bad = int(outcome["unexpected_count"])
        return Failure(table, config.type, column, bad, int(outcome.get("element_count") or rows), why)
    observed = outcome.get("observed_value")
    if config.type == "expect_table_row_count_to_equal":
        expected = int(kwargs["value"])
        return Failure(
            table, config.type, None, abs(int(observed or 0) - expected), rows, why,
            f"the files hold {observed} rows, expected {expected}",
        )
    if config.type == "expect_table_columns_to_match_set":
        details = outcome.get("details", {}).get("mismatched", {})
        return Failure(table, config.type, None, rows, rows, why, f"columns differ: {details or observed}")
    return Failure(table, config.type, column, rows, rows, why, f"observed {observed}")


def _condition(expectation: str, condition: str) -> dict[str, Any]:
    """A suite's pandas row condition (`channel=="venue"`) as the condition GX's SQL engine reads."""
    matched = PANDAS_CONDITION.match(condition)
    if matched is None:
        raise ValueError(f"{expectation}: row condition {condition!r} is not of the form column==\"value\"")
    column, value = matched.groups()
    return {"type": "comparison", "column": {"name": column}, "operator": "==", "parameter": value}


def on_duckdb(expectation: Mapping[str, Any]) -> dict[str, Any]:
    """One suite expectation as Great Expectations must run it on DuckDB, meaning what it means on pandas.

    Patterns are rewritten for RE2 (jobs.validation.regex), and pandas row
    conditions, which GX's SQL engine refuses, become its own conditions.
    """
    kwargs = dict(expectation["kwargs"])
    if "regex" in kwargs:
        kwargs["regex"] = re2_search_pattern(kwargs["regex"])
    if kwargs.get("condition_parser") == "pandas":
        del kwargs["condition_parser"]
        kwargs["row_condition"] = _condition(expectation["type"], kwargs["row_condition"])
    return {**expectation, "kwargs": kwargs}


def _sql_source(context: Any, name: str, session: Session) -> Any:
    """GX's SQL data source on the session's DuckDB connection, treated as the Postgres dialect it derives from.

    duckdb_engine's dialect subclasses the psycopg2 one, which GX does not recognise
    as Postgres under SQLAlchemy 2.1 (psycopg is the default there), so GX would find
    no regex operator for it. DuckDB's `~`/`!~` are partial matches like Postgres'
    (by RE2: hence `on_duckdb`), so the engine is given Postgres' dialect module.
    """
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.pool import StaticPool

    source = context.data_sources.add_sql(
        name,
        connection_string=CONNECTION_STRING,
        kwargs={"creator": session.creator(), "poolclass": StaticPool},
    )
    source.get_execution_engine().dialect_module = postgresql
    return source


def scoped(value: Any, suite: str) -> Any:
    """`value` (a suite's kwargs) with each `$PARAMETER` renamed into the suite's own namespace.

    One checkpoint validates every table of a stage and takes one dict of
    parameters, while tables give the same name different values (each raw
    topic's `landed_rows`): `landed_rows` of `raw_checkins` is asked for as
    `raw_checkins__landed_rows`.
    """
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {"$PARAMETER": f"{suite}{SCOPE}{value['$PARAMETER']}"}
        return {key: scoped(item, suite) for key, item in value.items()}
    if isinstance(value, list):
        return [scoped(item, suite) for item in value]
    return value


def _suite(batch: TableBatch) -> tuple[Any, dict[str, Any]]:
    """The batch's suite as GX runs it on DuckDB, and its parameters under their scoped names."""
    import great_expectations as gx

    document = load_suite(batch.suite)
    missing = parameters_of(document) - set(batch.parameters)
    if missing:
        raise ValueError(f"suite {batch.suite} needs parameters {sorted(missing)}")
    expectations = [on_duckdb(expectation) for expectation in document["expectations"]]
    suite = gx.ExpectationSuite(
        name=batch.suite,
        expectations=[{**expectation, "kwargs": scoped(expectation["kwargs"], batch.suite)}
                      for expectation in expectations],
        meta=dict(document.get("meta", {})),
    )
    return suite, {f"{batch.suite}{SCOPE}{name}": value for name, value in batch.parameters.items()}


def _build_docs(context: Any, results: Mapping[Any, Any]) -> None:
    """The pages of this run's results and suites, and the day's index, built once for the whole stage.

    GX's `UpdateDataDocsAction` would rebuild the index and render its
    templates anew once per validated table.
    """
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    suites = [ExpectationSuiteIdentifier(name=result.suite_name) for result in results.values()]
    context.build_data_docs(site_names=[SITE], resource_identifiers=[*results, *suites])


def run_suites(stage: str, day: date, batches: list[TableBatch], docs_root: str, session: Session) -> ValidationReport:
    """Validate every batch (a view of `session`) against its suite, all in one checkpoint, then build the
    day's Data Docs once, whatever the outcome."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    run_time = datetime.now().astimezone()
    run_name = f"{stage}-{day.isoformat()}"
    failures: list[Failure] = []
    expectations = 0
    rows = {batch.suite: batch.rows for batch in batches}
    with _local_site(docs_root) as site:
        context = _context(site)
        source = _sql_source(context, f"{stage}_views", session)
        definitions = []
        parameters: dict[str, Any] = {}
        for batch in batches:
            suite, scoped_parameters = _suite(batch)
            parameters.update(scoped_parameters)
            definitions.append(context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=batch.suite,
                    data=source.add_table_asset(batch.suite, table_name=batch.view)
                    .add_batch_definition_whole_table(day.isoformat()),
                    suite=context.suites.add(suite),
                )
            ))
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=stage,
                validation_definitions=definitions,
                result_format=RESULT_FORMAT,
            )
        )
        outcome = checkpoint.run(
            expectation_parameters=parameters,
            run_id=RunIdentifier(run_name=run_name, run_time=run_time),
        )
        _build_docs(context, outcome.run_results)
        by_suite = {suite_result.suite_name: suite_result for suite_result in outcome.run_results.values()}
        for batch in batches:
            for result in by_suite[batch.suite].results:
                expectations += 1
                if not result.success:
                    failures.append(_failure(batch.suite, rows[batch.suite], result))
        docs = join(docs_root, "index.html")
        report = ValidationReport(
            stage=stage,
            day=day,
            rows=rows,
            failures=tuple(failures),
            docs=docs,
            expectations=expectations,
            extra={"run_name": run_name, "run_time": run_time.isoformat()},
        )
        with open(os.path.join(site, SUMMARY_FILE.format(stage=stage)), "w", encoding="utf-8") as summary:
            summary.write(report.to_json())
    log.info(report.message())
    return report
