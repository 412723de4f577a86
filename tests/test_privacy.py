"""Caller numbers masked in every form a Chinese trunk delivers them, service numbers left readable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.privacy import mask_number


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13912345678", "139****5678"),  # mobile
        ("+8613912345678", "+86139****5678"),
        ("008613912345678", "0086139****5678"),
        ("8613912345678", "86139****5678"),
        ("013912345678", "0139****5678"),  # mobile with the trunk 0, as some carriers deliver it
        ("0871-65123456", "0871-****3456"),  # landline: the area code stays
        ("087165123456", "0871****3456"),
        ("010-62345678", "010-****5678"),  # a 2-digit area code
        ("+86 871 6512 3456", "+86 871 **** 3456"),
        ("+86 10 62345678", "+86 10 ****5678"),
        ("65123456", "65****56"),  # a local number without its area code
        ("0871-1234567", "0871-***4567"),
        ("+14155550100", "+141****0100"),
        ("12345", "12345"),  # service numbers are not personal
        ("110", "110"),
        ("unknown", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_mask_number(number, masked):
    assert mask_number(number) == masked


@given(st.text(alphabet="0123456789+- ", min_size=7, max_size=24))
def test_at_least_three_digits_are_hidden_and_the_shape_kept(number):
    digits = sum(ch.isdigit() for ch in number)
    masked = mask_number(number)
    assert len(masked) == len(number)
    assert [ch.isdigit() or ch == "*" for ch in masked] == [ch.isdigit() for ch in number]
    if digits >= 7:
        assert masked.count("*") >= 3
    else:
        assert masked == number
