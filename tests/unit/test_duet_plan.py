"""The duet plan (pure): the common span of two recordings and the stack graph's choices."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.video import CommonSpan, common_span


@pytest.mark.parametrize(("offset", "expected"), [
    (0.7, CommonSpan(start_a=0.7, start_b=0.0, duration=2.3)),  # B started later, ends after A
    (-0.5, CommonSpan(start_a=0.0, start_b=0.5, duration=2.0)),  # B started earlier
    (0.2, CommonSpan(start_a=0.2, start_b=0.0, duration=2.5)),  # B inside A
])
def test_common_span_is_the_time_both_recordings_cover(offset: float, expected: CommonSpan) -> None:
    got = common_span(3.0, 2.5, offset)
    assert got.start_a == pytest.approx(expected.start_a)
    assert got.start_b == pytest.approx(expected.start_b)
    assert got.duration == pytest.approx(expected.duration)


def test_recordings_that_do_not_overlap_are_refused() -> None:
    with pytest.raises(InputError, match="do not overlap"):
        common_span(3.0, 2.5, 3.5)
