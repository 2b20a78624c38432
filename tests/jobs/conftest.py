"""Fixtures of the trace job's tests: one SparkSession for the whole run, every rule on both engines."""

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from pyspark.sql import SparkSession

from jobs.trace.day import EngineName
from jobs.trace.spark.session import spark_session
from tests.jobs.lakebuilder import LakeBuilder


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session, _ = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(params=["spark", "duckdb"])
def engine(request: pytest.FixtureRequest) -> EngineName:
    if request.param == "spark":
        request.getfixturevalue("spark")
    return cast(EngineName, request.param)


@pytest.fixture
def builder(tmp_path: Path) -> LakeBuilder:
    return LakeBuilder(tmp_path / "lake", tmp_path / "vault")
