"""
### tracelake staff check: an agency's roster against the lake, on demand

Triggered by hand (the UI's *Trigger* form, or the REST API) when a health
department receives agencies' staff rosters: which of their staff checked in
by QR code and which ran Bluezone in the last days up to D. The same check as
`tracelake staff-check`; the work is in `jobs.staff_check`.

Params:

* **roster**: where the roster CSV is, a path the workers can read or an
  object-store URI (columns and accepted header names: README, *Agency staff
  check*; a sample: `docs/sample-roster.csv`);
* **day**: D, `YYYY-MM-DD`; empty means the local day the run was queued;
* **days**: how many local days up to D count (7 by default, at most the
  rules' `retention_days`).

Outputs of D: `exports/staff_check/date=D/` for the tracers (who was seen,
who was seen in neither, the rejected rows with their line and reason) and
`public/staff_check_agencies/date=D/` (shares per agency and unit, no count
from 1 to 9). The task's XCom carries counts only, never a name or a phone. A
roster the check cannot read (not UTF-8, a required column missing) fails the
task at once with the reason: no retry can fix it.
"""

from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

import tracelake.airflow.tasks as steps

SETTINGS, RULES = steps.parse_settings()
DEFAULT_DAYS = 7


@dag(
    dag_id="tracelake_staff_check",
    schedule=None,
    start_date=steps.start_date(SETTINGS, RULES),
    catchup=False,
    max_active_runs=1,
    default_args=steps.default_args(),
    tags=["tracelake", "staff-check", "manual"],
    params={
        "roster": Param(type="string", minLength=1, description="The roster CSV: a path or an object-store URI."),
        "day": Param("", type="string", pattern=r"^(\d{4}-\d{2}-\d{2})?$",
                     description="Day D, YYYY-MM-DD; empty: the local day the run was queued."),
        "days": Param(DEFAULT_DAYS, type="integer", minimum=1, maximum=RULES.retention_days,
                      description="Local days up to D that count."),
    },
    doc_md=__doc__,
)
def tracelake_staff_check() -> None:
    @task
    def staff_check() -> dict[str, Any]:
        """Check the roster; a file that is not a roster fails at once, with what to fix."""
        settings, rules = steps.service_settings()
        context = get_current_context()
        return steps.staff_check(settings, rules, context["params"], steps.today(context, rules.zone))

    staff_check()


DAG = tracelake_staff_check()
