"""Landed file names: one writer and one parser, for today's names and those of older lakes."""

import pytest

from tracelake.core.lake import SegmentName, parse_segment_file_name, segment_file_name


def test_a_name_says_topic_partition_incarnation_and_first_offset() -> None:
    name = segment_file_name("checkins", 3, "5f2a9c1be4d07a55", 120)
    assert name == "checkins+3+5f2a9c1be4d07a55+00000000000000000120.parquet"
    assert parse_segment_file_name(name) == SegmentName("checkins", 3, "5f2a9c1be4d07a55", 120)


def test_names_of_lakes_landed_before_incarnations_are_still_read() -> None:
    assert parse_segment_file_name("proximity+0+00000000000000004000.parquet") == SegmentName(
        "proximity", 0, None, 4000
    )


@pytest.mark.parametrize("name", [
    ".checkins+0+ab+00000000000000000000.parquet.inprogress",
    "_checkins+0+ab+00000000000000000000.parquet",
    "checkins+0+ab+00000000000000000000.json",
    "checkins+x+ab+00000000000000000000.parquet",
    "checkins+0+AB+00000000000000000000.parquet",
    "checkins+0+ab+1+00000000000000000000.parquet",
    "checkins+0+ab+-1.parquet",
    "checkins+0.parquet",
    "part-0.parquet",
    "batch-00001.parquet",
])
def test_anything_else_is_not_a_segment(name: str) -> None:
    assert parse_segment_file_name(name) is None


@pytest.mark.parametrize(("topic", "incarnation"), [("check+ins", "ab"), ("checkins", "a+b"), ("checkins", "")])
def test_the_writer_refuses_a_name_the_parser_would_misread(topic: str, incarnation: str) -> None:
    with pytest.raises(ValueError, match="cannot name a segment"):
        segment_file_name(topic, 0, incarnation, 0)
