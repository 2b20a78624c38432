"""The spark-submit entry: same code as `trace_day`, arguments checked, any master."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.trace import submit
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import read_table

SOURCE, EXPOSED = "0914000001", "0914000002"


def _lake(tmp_path: Path) -> LakeBuilder:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-02")
    builder.checkin(SOURCE, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(EXPOSED, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.write()
    return builder


def test_submit_traces_the_day_in_the_running_session(tmp_path: Path, spark: object) -> None:
    builder = _lake(tmp_path)
    arguments = ["--lake", str(builder.root), "--date", "2021-08-03", "--vault", str(builder.vault)]
    assert submit.main(arguments) == 0
    export = read_table(str(builder.root / "exports" / "exposures" / "date=2021-08-03"))
    assert export.column("person_id").to_pylist() == [builder.person_id(EXPOSED)]


@pytest.mark.parametrize("bad", [["--date", "2021-13-01"], ["--date", "2021-08-03", "--rules", "/nonexistent.yaml"]])
def test_submit_refuses_bad_arguments(tmp_path: Path, bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert submit.main(["--lake", str(tmp_path), *bad]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.slow
def test_spark_submit_runs_the_entry_file(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    spark_submit = Path(sys.executable).parent / "spark-submit"
    entry = Path(submit.__file__)
    environment = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    finished = subprocess.run(
        [str(spark_submit), "--master", "local[1]", "--driver-memory", "1g", str(entry),
         "--lake", str(builder.root), "--date", "2021-08-03", "--vault", str(builder.vault)],
        capture_output=True, text=True, env=environment, timeout=300, cwd=tmp_path, check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "F1=1" in finished.stdout
