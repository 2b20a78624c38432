"""A deterministic synthetic province: people, venues, check-ins, Bluetooth sightings, cases.

`simulate()` writes one JSONL file per topic in exactly the shapes of
CONTRACT.md section 1, with realistic mess (varied phone spellings, missing
check-outs, resends, malformed messages tagged with the validator's reason),
and a `simulation.json` summary to check the pipeline against.
"""

from simulator.simulate import simulate
from simulator.summary import SimulationSummary
from simulator.transmission import TransmissionModel

__all__ = ["SimulationSummary", "TransmissionModel", "simulate"]
