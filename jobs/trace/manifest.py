"""The run's record beside its outputs: which rules, which engine, which inputs, what came out.

A day re-scored later under other rules or by the other engine can be told
apart from its earlier run by this file alone. Paths are relative to the lake
root so a lake can move.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from jobs.trace.engines import TopicCounts
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan
from tracelake.core.days import from_epoch_micros
from tracelake.core.rules import Rules


def _relative(lake_root: str, path: str) -> str:
    prefix = lake_root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def _local_instant(micros: int, params: TraceParams) -> str:
    return from_epoch_micros(micros).astimezone(params.zone).isoformat()


def manifest(
    *,
    rules: Rules,
    params: TraceParams,
    engine: str,
    plan: InputPlan,
    inputs: Mapping[str, TopicCounts],
    outputs: Mapping[str, tuple[str, int]],
    tier_counts: Mapping[str, int],
    timings: Mapping[str, float],
    on_case: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest; `on_case` (only for the on-case trace) says whether it traced D whole or its new F0s
    only, and why."""
    document = {
        "job": "trace",
        "day": params.day.isoformat(),
        "engine": engine,
        "rules_version": rules.version,
        "rules": rules.model_dump(mode="json"),
        "range": {
            "start": _local_instant(params.range_start_us, params),
            "end": _local_instant(params.range_end_us, params),
        },
        "inputs": {
            topic: {**asdict(counts), "files": plan.relative(topic)} for topic, counts in sorted(inputs.items())
        },
        "outputs": {
            name: {"path": _relative(plan.lake_root, path), "rows": rows}
            for name, (path, rows) in sorted(outputs.items())
        },
        "tier_counts": dict(tier_counts),
        "timings": {stage: round(seconds, 3) for stage, seconds in timings.items()},
    }
    if on_case is not None:
        document["on_case"] = dict(on_case)
    return document


def manifest_bytes(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
