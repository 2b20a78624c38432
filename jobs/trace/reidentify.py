"""The tracers' export: the curated exposures with every pseudonym turned back into a person_id.

Only this table leaves the pseudonymized lake. A pseudonym the vault does not
know means the lander and the vault disagree; exporting a row the tracers
cannot call would hide that, so it fails loudly instead.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.lake import EXPOSURES_EXPORT


class MissingIdentityError(LookupError):
    """Pseudonyms in the traced data that the identity vault cannot re-identify."""


MISSING_SHOWN = 5
"""Missing pseudonyms a failure names: enough to look one up, not a list of the province."""


def missing_identities(count: int, first: list[str]) -> MissingIdentityError:
    """The failure for `count` pseudonyms the vault lacks, `first` the smallest of them (either engine)."""
    shown = ", ".join(first[:MISSING_SHOWN])
    return MissingIdentityError(
        f"{count} pseudonym(s) in the traced data are not in the identity vault "
        f"(e.g. {shown}); the export cannot name these people. Check that the vault matches the lake."
    )


def _person_ids(pseudonyms: pa.Array, identities: pa.Table) -> pa.Array:
    positions = pc.index_in(pseudonyms, value_set=identities["pseudonym"].combine_chunks())
    if positions.null_count:
        missing = sorted(set(pc.filter(pseudonyms, pc.is_null(positions)).to_pylist()))
        raise missing_identities(len(missing), missing)
    return pc.take(identities["person_id"].combine_chunks(), positions)


def _sorted_person_id_lists(lists: pa.ChunkedArray, identities: pa.Table) -> pa.Array:
    """Each list re-identified and sorted again: the order of person_ids is not the order of pseudonyms."""
    array = lists.combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]), pa.int32())
    person_ids = _person_ids(array.flatten(), identities)
    within = pa.table({"row": pc.list_parent_indices(array), "person_id": person_ids})
    order = pc.sort_indices(within, sort_keys=[("row", "ascending"), ("person_id", "ascending")])
    return pa.ListArray.from_arrays(offsets, pc.take(person_ids, order))


def pseudonyms_named(curated: pa.Table) -> pa.ChunkedArray:
    """Every pseudonym the export of these EXPOSURES_CURATED rows re-identifies: persons, sources and cases."""
    lists = [pc.list_flatten(curated[name]) for name in ("source_pseudonyms", "case_pseudonyms")]
    return pa.chunked_array(
        [*curated["person_pseudonym"].chunks, *(chunk for flat in lists for chunk in flat.chunks)], pa.string()
    )


def reidentify(curated: pa.Table, identities: pa.Table) -> pa.Table:
    """EXPOSURES_EXPORT rows from EXPOSURES_CURATED rows, sorted by (tier, person_id)."""
    export = pa.Table.from_arrays(
        [
            _person_ids(curated["person_pseudonym"].combine_chunks(), identities),
            curated["tier"],
            curated["first_exposure_at"],
            curated["last_exposure_at"],
            curated["exposure_minutes"],
            curated["channels"],
            _sorted_person_id_lists(curated["source_pseudonyms"], identities),
            _sorted_person_id_lists(curated["case_pseudonyms"], identities),
            curated["venue_ids"],
            curated["rules_version"],
            curated["imputed_checkout"],
            curated["risk_score"],
        ],
        schema=EXPOSURES_EXPORT,
    )
    return export.sort_by([("tier", "ascending"), ("person_id", "ascending")])
