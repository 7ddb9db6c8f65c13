"""Tests for Unified Social Credit Code validation."""

from __future__ import annotations

import pytest

from registry.uscc import check_character, is_valid_uscc, normalise_uscc, region_code, validate_uscc
from storage.exceptions import InvalidInput

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def reference_check(first17: str) -> str:
    """The GB 32100-2015 formula written out independently of the module under test."""
    total = sum(CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return CHARSET[(31 - total % 31) % 31]


def problem(raw: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_uscc(raw, field="entity.uscc")
    assert caught.value.status == 422
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].field == "entity.uscc"
    return caught.value


@pytest.mark.parametrize("code", ["91110108551385082Q", "91350100M000100Y43"])
def test_known_valid_codes(code: str) -> None:
    assert validate_uscc(code) == code
    assert reference_check(code[:17]) == code[17]


@pytest.mark.parametrize("prefix", ["N2", "Y1", "A1", "N1", "51"])
def test_letter_prefixes_accepted_with_computed_check(prefix: str) -> None:
    first17 = prefix + "440101MA5CXXXX0"
    assert len(first17) == 17
    code = first17 + reference_check(first17)
    assert validate_uscc(code) == code
    assert check_character(first17) == code[17]


def test_wrong_check_character_names_the_expected_one() -> None:
    err = problem("91110108551385082R")
    assert "'Q'" in err.errors[0].message
    assert "'R'" in err.errors[0].message


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_excluded_letters_refused_with_position(letter: str) -> None:
    code = "91110108551385082Q"
    bad = code[:9] + letter + code[10:]
    message = problem(bad).errors[0].message
    assert f"'{letter}' at position 10" in message


@pytest.mark.parametrize("raw", ["", "9111010855138508", "91110108551385082", "91110108551385082QQ"])
def test_wrong_length_says_the_length_found(raw: str) -> None:
    message = problem(raw).errors[0].message
    assert f"found {len(raw)}" in message


def test_region_must_be_digits() -> None:
    first17 = "91A10108551385082"
    code = first17 + reference_check(first17)
    assert "region" in problem(code).errors[0].message


def test_full_width_and_spaced_input_normalised() -> None:
    assert normalise_uscc("９１１１０１０８５５１３８５０８２Ｑ") == "91110108551385082Q"
    assert validate_uscc(" ９１１１０１０８　５５１３８５０８２ｑ\n") == "91110108551385082Q"


def test_lower_case_accepted() -> None:
    assert validate_uscc("91350100m000100y43") == "91350100M000100Y43"


def test_other_unicode_not_silently_turned_into_digits() -> None:
    # Circled and superscript digits are not full-width forms; they must be refused, not converted.
    assert not is_valid_uscc("①1110108551385082Q")
    assert not is_valid_uscc("9¹110108551385082Q")


def test_every_single_substitution_detected() -> None:
    code = "91350100M000100Y43"
    for pos in range(18):
        for c in CHARSET:
            if c != code[pos]:
                assert not is_valid_uscc(code[:pos] + c + code[pos + 1 :]), (pos, c)


def test_region_code() -> None:
    assert region_code("91110108551385082Q") == "110108"
    with pytest.raises(InvalidInput):
        region_code("91110108551385082R")


def test_check_character_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        check_character("9111010855138508")
    with pytest.raises(ValueError):
        check_character("9111010855138508O")
