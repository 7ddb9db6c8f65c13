"""Human-readable codes that people cite, read aloud and type back in.

Every code except the certificate number ends in an ISO 7064 MOD 37,36 check character (``0-9A-Z``), which
catches every single mistyped character and all but a few swaps of two adjacent characters. The check is
computed over the code's letters and digits only (hyphens are layout), *including* the kind prefix, so a
resource code can never pass as a product code with the same numbers. Checking accepts surrounding whitespace
and lower case.

Registration code (登记编号), given when a registration is completed (赋码)::

    PDR-2026-4401-00000123-C
    |   |    |    |        check character
    |   |    |    8-digit serial within the registry, from 1
    |   |    4-digit registry code (setting; 4401 is Guangzhou)
    |   4-digit year of registration
    fixed prefix

Result query code (查询码): 12 characters drawn with `secrets` from ``23456789ABCDEFGHJKLMNPQRSTUVWXYZ`` (no
0, 1, I or O, which are easily confused; 60 bits of randomness) followed by the check character, e.g.
``K7PXW3MDQ9TRB``. The check character itself ranges over all of ``0-9A-Z``, as the standard defines it.

Resource and product codes::

    R-440100-2026-000123-C      data resource (公共数据资源)
    P-440100-2026-000123-C      data product or service (数据产品/服务)
      |      |    |      check character
      |      |    6-digit serial, from 1
      |      4-digit year
      6-digit administrative region code (as in positions 3-8 of a USCC)

Certificate number (证书编号), the 17-digit national layout with no check character::

    2026 05 4401 0000123
    year month registry-code serial (7 digits, from 1)
"""

from __future__ import annotations

import re
import secrets
from types import ModuleType

DEFAULT_REGISTRY_CODE = "4401"
QUERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
QUERY_LENGTH = 12

_REGISTRATION = re.compile(r"PDR-([0-9]{4})-([0-9]{4})-([0-9]{8})-([0-9A-Z])")
_QUERY = re.compile(rf"[{QUERY_ALPHABET}]{{{QUERY_LENGTH}}}[0-9A-Z]")
_RESOURCE_OR_PRODUCT = re.compile(r"([RP])-([0-9]{6})-([0-9]{4})-([0-9]{6})-([0-9A-Z])")
_CERTIFICATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{4})([0-9]{7})")
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_SIX_DIGITS = re.compile(r"[0-9]{6}")


def _mod_37_36() -> ModuleType:
    # Imported at first use: python-stdnum's package brings pydoc with it, 1.5 MB that a worker which never numbers or
    # checks a code would keep.
    from stdnum.iso7064 import mod_37_36

    return mod_37_36


def mod_37_36_check(payload: str) -> str:
    """The ISO 7064 MOD 37,36 check character of a payload, its hyphens ignored."""
    check: str = _mod_37_36().calc_check_digit(payload.replace("-", ""))
    return check


def mod_37_36_valid(code: str) -> bool:
    """Whether a code's last character is the ISO 7064 MOD 37,36 check character of the rest, hyphens ignored."""
    ok: bool = _mod_37_36().is_valid(code.replace("-", ""))
    return ok


def _clean(code: object) -> str | None:
    return code.strip().upper() if isinstance(code, str) else None


def _in_range(name: str, value: int, low: int, high: int) -> int:
    # bool is an int subclass; a True serial is always a caller's bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _digits(name: str, value: str, pattern: re.Pattern[str], width: int) -> str:
    # str.isdigit() accepts full-width and superscript digits; codes must stay plain ASCII.
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{name} must be {width} ASCII digits, got {value!r}")
    return value


def make_registration_code(year: int, registry_code: str, serial: int) -> str:
    """Return the registration code ``PDR-YYYY-RRRR-NNNNNNNN-C`` for a registration."""
    _in_range("year", year, 1000, 9999)
    _digits("registry_code", registry_code, _FOUR_DIGITS, 4)
    _in_range("serial", serial, 1, 99_999_999)
    body = f"PDR-{year:04d}-{registry_code}-{serial:08d}"
    return f"{body}-{mod_37_36_check(body)}"


def parse_registration_code(code: str) -> tuple[int, str, int]:
    """Return (year, registry code, serial) of a registration code, or raise ValueError."""
    cleaned = _clean(code)
    match = _REGISTRATION.fullmatch(cleaned) if cleaned is not None else None
    if match is None or cleaned is None:
        raise ValueError(f"not a registration code of the form PDR-YYYY-RRRR-NNNNNNNN-C: {code!r}")
    if not mod_37_36_valid(cleaned):
        raise ValueError(f"registration code {code!r} has a wrong check character (mistyped?)")
    year, serial = int(match[1]), int(match[3])
    if year < 1000 or serial < 1:
        raise ValueError(f"registration code {code!r} has an impossible year or serial")
    return year, match[2], serial


def is_valid_registration_code(code: str) -> bool:
    """Tell whether ``code`` is a well-formed registration code with a correct check character."""
    try:
        parse_registration_code(code)
    except ValueError:
        return False
    return True


def new_query_code() -> str:
    """Return a fresh random result query code: 12 unambiguous characters and a check character."""
    body = "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_LENGTH))
    return body + mod_37_36_check(body)


def is_valid_query_code(code: str) -> bool:
    """Tell whether ``code`` is a well-formed result query code with a correct check character."""
    cleaned = _clean(code)
    return cleaned is not None and _QUERY.fullmatch(cleaned) is not None and mod_37_36_valid(cleaned)


def _make_catalogue_code(prefix: str, region: str, year: int, serial: int) -> str:
    _digits("region", region, _SIX_DIGITS, 6)
    _in_range("year", year, 1000, 9999)
    _in_range("serial", serial, 1, 999_999)
    body = f"{prefix}-{region}-{year:04d}-{serial:06d}"
    return f"{body}-{mod_37_36_check(body)}"


def _parse_catalogue_code(prefix: str, what: str, code: str) -> tuple[str, int, int]:
    cleaned = _clean(code)
    match = _RESOURCE_OR_PRODUCT.fullmatch(cleaned) if cleaned is not None else None
    if match is None or cleaned is None or match[1] != prefix:
        raise ValueError(f"not a {what} code of the form {prefix}-RRRRRR-YYYY-NNNNNN-C: {code!r}")
    if not mod_37_36_valid(cleaned):
        raise ValueError(f"{what} code {code!r} has a wrong check character (mistyped?)")
    year, serial = int(match[3]), int(match[4])
    if year < 1000 or serial < 1:
        raise ValueError(f"{what} code {code!r} has an impossible year or serial")
    return match[2], year, serial


def make_resource_code(region: str, year: int, serial: int) -> str:
    """Return the data resource code ``R-RRRRRR-YYYY-NNNNNN-C``."""
    return _make_catalogue_code("R", region, year, serial)


def parse_resource_code(code: str) -> tuple[str, int, int]:
    """Return (region, year, serial) of a data resource code, or raise ValueError."""
    return _parse_catalogue_code("R", "resource", code)


def is_valid_resource_code(code: str) -> bool:
    """Tell whether ``code`` is a well-formed data resource code with a correct check character."""
    try:
        parse_resource_code(code)
    except ValueError:
        return False
    return True


def make_product_code(region: str, year: int, serial: int) -> str:
    """Return the data product code ``P-RRRRRR-YYYY-NNNNNN-C``."""
    return _make_catalogue_code("P", region, year, serial)


def parse_product_code(code: str) -> tuple[str, int, int]:
    """Return (region, year, serial) of a data product code, or raise ValueError."""
    return _parse_catalogue_code("P", "product", code)


def is_valid_product_code(code: str) -> bool:
    """Tell whether ``code`` is a well-formed data product code with a correct check character."""
    try:
        parse_product_code(code)
    except ValueError:
        return False
    return True


def make_certificate_number(year: int, month: int, registry_code: str, serial: int) -> str:
    """Return the 17-digit certificate number: year, month, registry code, 7-digit serial."""
    _in_range("year", year, 1000, 9999)
    _in_range("month", month, 1, 12)
    _digits("registry_code", registry_code, _FOUR_DIGITS, 4)
    _in_range("serial", serial, 1, 9_999_999)
    return f"{year:04d}{month:02d}{registry_code}{serial:07d}"


def parse_certificate_number(s: str) -> tuple[int, int, str, int]:
    """Return (year, month, registry code, serial) of a certificate number, or raise ValueError."""
    cleaned = _clean(s)
    match = _CERTIFICATE.fullmatch(cleaned) if cleaned is not None else None
    if match is None:
        raise ValueError(f"a certificate number is 17 ASCII digits (YYYYMMRRRRNNNNNNN), got {s!r}")
    year, month, serial = int(match[1]), int(match[2]), int(match[4])
    if year < 1000:
        raise ValueError(f"certificate number {s!r} has an impossible year {match[1]}")
    if not 1 <= month <= 12:
        raise ValueError(f"certificate number {s!r} has an impossible month {match[2]}")
    if serial < 1:
        raise ValueError(f"certificate number {s!r} has serial 0; serials start at 1")
    return year, month, match[3], serial
