"""Validating a day the lander is still landing: a recount that moved is a reason to retry, a stale one is not."""

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import pytest

from jobs.validation import ValidationFailed
from jobs.validation.raw import validate_raw_while_landing
from tests.jobs.lakebuilder import LakeBuilder
from tracelake.core.settings import Settings

DAY = date(2021, 8, 3)
LANDED = {"checkins": 2, "proximity": 1, "case_reports": 0}
BEHIND = {**LANDED, "checkins": 1}
"""What the lander reported before its last segment of D: the files already hold one more check-in."""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    builder = LakeBuilder(root / "lake", root / "vault")
    builder.checkin("0912000001", "V1", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin("0912000002", "V1", "2021-08-03 10:30", "2021-08-03 11:00")
    builder.sighting("0912000001", "0912000002", "2021-08-03 10:40")
    builder.write()
    return root / "lake"


def _counts(*answers: Mapping[str, int]) -> tuple[Callable[[], Mapping[str, int]], list[Mapping[str, int]]]:
    """A recount answering `answers` in turn (then the last one forever), and the list of what it answered."""
    given: list[Mapping[str, int]] = []

    def recount() -> Mapping[str, int]:
        given.append(answers[min(len(given), len(answers) - 1)])
        return given[-1]

    return recount, given


def test_a_count_that_moved_meanwhile_is_recounted_and_validated_again(lake: Path) -> None:
    recount, given = _counts(BEHIND, LANDED)
    report = validate_raw_while_landing(str(lake), DAY, Settings(lake=str(lake)), recount)
    assert report.success, report.message()
    assert report.rows["raw_checkins"] == 2
    assert given == [BEHIND, LANDED, LANDED], "failed on the old count, saw it move, passed on the new one"


def test_a_failure_with_the_same_count_before_and_after_is_a_failure(lake: Path) -> None:
    recount, given = _counts(BEHIND)
    with pytest.raises(ValidationFailed, match="raw_checkins: expect_table_row_count_to_equal"):
        validate_raw_while_landing(str(lake), DAY, Settings(lake=str(lake)), recount)
    assert given == [BEHIND, BEHIND]


def test_a_count_that_keeps_moving_gives_up_after_the_last_attempt(lake: Path) -> None:
    recount, given = _counts(*({**LANDED, "checkins": 10 + n} for n in range(10)))
    with pytest.raises(ValidationFailed):
        validate_raw_while_landing(str(lake), DAY, Settings(lake=str(lake)), recount, attempts=2)
    assert len(given) == 4, "two runs of the suites, each between two counts"
