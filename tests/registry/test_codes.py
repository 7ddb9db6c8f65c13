"""Tests for the human-readable codes and their check characters."""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest
from stdnum.iso7064 import mod_37_36

from registry.codes import (
    QUERY_ALPHABET,
    is_valid_product_code,
    is_valid_query_code,
    is_valid_registration_code,
    is_valid_resource_code,
    make_certificate_number,
    make_product_code,
    make_registration_code,
    make_resource_code,
    new_query_code,
    parse_certificate_number,
    parse_product_code,
    parse_registration_code,
    parse_resource_code,
)

ALNUM = string.digits + string.ascii_uppercase


def assert_every_substitution_caught(code: str, is_valid: Callable[[str], bool]) -> None:
    checked = 0
    for pos, original in enumerate(code):
        if original == "-":
            continue
        for c in ALNUM:
            if c != original:
                assert not is_valid(code[:pos] + c + code[pos + 1 :]), (code, pos, c)
                checked += 1
    assert checked > 0


def test_registration_code_round_trip() -> None:
    code = make_registration_code(2026, "4401", 123)
    assert code.startswith("PDR-2026-4401-00000123-")
    assert len(code) == 24
    assert is_valid_registration_code(code)
    assert parse_registration_code(code) == (2026, "4401", 123)
    assert parse_registration_code(f"  {code.lower()} ") == (2026, "4401", 123)


def test_registration_code_every_substitution_detected() -> None:
    for serial in (1, 123, 99_999_999):
        assert_every_substitution_caught(make_registration_code(2026, "4401", serial), is_valid_registration_code)


@pytest.mark.parametrize(
    "code",
    ["", "PDR-2026-4401-00000123", "PDR-2026-4401-0000123-X", "XDR-2026-4401-00000123-0", "PDR20264401000001230"],
)
def test_registration_code_malformed(code: str) -> None:
    assert not is_valid_registration_code(code)
    with pytest.raises(ValueError):
        parse_registration_code(code)


@pytest.mark.parametrize(
    ("year", "registry", "serial"),
    [
        (999, "4401", 1),
        (2026, "440", 1),
        (2026, "44O1", 1),
        (2026, "４４０１", 1),
        (2026, "4401", 0),
        (2026, "4401", 100_000_000),
    ],
)
def test_make_registration_code_refuses_bad_parts(year: int, registry: str, serial: int) -> None:
    with pytest.raises(ValueError):
        make_registration_code(year, registry, serial)


def test_query_code_shape_and_check() -> None:
    codes = {new_query_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 13
        assert all(c in QUERY_ALPHABET for c in code[:12])
        assert is_valid_query_code(code)
        assert is_valid_query_code(code.lower())
    assert not set(QUERY_ALPHABET) & set("IO01")


def test_query_code_every_substitution_detected() -> None:
    for _ in range(5):
        assert_every_substitution_caught(new_query_code(), is_valid_query_code)


@pytest.mark.parametrize("code", ["", "ABCDEFGHJKLM", "ABCDEFGHJKLMNP", "ABCDEFGHJK1M"])
def test_query_code_malformed(code: str) -> None:
    assert not is_valid_query_code(code)


def test_query_code_with_ambiguous_body_character_refused() -> None:
    code = new_query_code()
    # Put an O in the body and fix up the check, so only the alphabet rule can refuse it.
    body = "O" + code[1:12]
    assert not is_valid_query_code(body + mod_37_36.calc_check_digit(body))


def test_resource_and_product_codes_round_trip() -> None:
    resource = make_resource_code("440100", 2026, 123)
    product = make_product_code("440100", 2026, 123)
    assert resource.startswith("R-440100-2026-000123-")
    assert product.startswith("P-440100-2026-000123-")
    assert parse_resource_code(resource) == ("440100", 2026, 123)
    assert parse_product_code(product) == ("440100", 2026, 123)
    assert is_valid_resource_code(resource) and is_valid_product_code(product)
    assert not is_valid_resource_code(product)
    assert not is_valid_product_code(resource)


def test_resource_and_product_every_substitution_detected() -> None:
    assert_every_substitution_caught(make_resource_code("440100", 2026, 123), is_valid_resource_code)
    assert_every_substitution_caught(make_product_code("110108", 2030, 999_999), is_valid_product_code)


@pytest.mark.parametrize(
    ("region", "year", "serial"),
    [("44010", 2026, 1), ("44010X", 2026, 1), ("440100", 2026, 0), ("440100", 2026, 1_000_000), ("440100", 10_000, 1)],
)
def test_make_resource_code_refuses_bad_parts(region: str, year: int, serial: int) -> None:
    with pytest.raises(ValueError):
        make_resource_code(region, year, serial)


def test_resource_code_malformed() -> None:
    assert not is_valid_resource_code("R-440100-2026-123-0")
    assert not is_valid_resource_code("R440100-2026-000123-0")


def test_certificate_number_round_trip() -> None:
    number = make_certificate_number(2026, 5, "4400", 123)
    assert number == "20260544000000123"
    assert len(number) == 17
    assert parse_certificate_number(number) == (2026, 5, "4400", 123)
    assert parse_certificate_number(make_certificate_number(2026, 12, "4401", 9_999_999)) == (
        2026,
        12,
        "4401",
        9_999_999,
    )


def test_certificate_serial_overflow_refused() -> None:
    with pytest.raises(ValueError, match="serial"):
        make_certificate_number(2026, 5, "4400", 10_000_000)


@pytest.mark.parametrize(
    ("year", "month", "registry", "serial"),
    [(2026, 0, "4400", 1), (2026, 13, "4400", 1), (2026, 5, "440", 1), (2026, 5, "4400", 0), (99, 5, "4400", 1)],
)
def test_make_certificate_number_refuses_bad_parts(year: int, month: int, registry: str, serial: int) -> None:
    with pytest.raises(ValueError):
        make_certificate_number(year, month, registry, serial)


def test_make_refuses_bool() -> None:
    with pytest.raises(TypeError):
        make_certificate_number(2026, 5, "4400", True)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "2026054400000012",
        "202605440000001234",
        "20261344000000123",
        "20260044000000123",
        "20260544000000000",
        "2026054400000012X",
        "２0260544000000123",
        "2026-05-4400-0000123",
    ],
)
def test_parse_certificate_number_malformed(number: str) -> None:
    with pytest.raises(ValueError):
        parse_certificate_number(number)
