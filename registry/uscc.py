"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) normalisation and validation.

An 18-character code over the 31-character set ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z, S, V):

* position 1 is the registering authority and position 2 the entity category; both may be letters
  (``N2`` rural collective economic organisations, ``Y1``, ``A1`` ...) and real codes use values outside
  the standard's example table, so any character of the set is accepted there;
* positions 3-8 are the six-digit administrative region code;
* positions 9-17 are the organisation code;
* position 18 is the check character: with weights ``3^(i-1) mod 31`` for positions 1-17 and each
  character's value its index in the set, check = ``(31 - sum mod 31) mod 31`` mapped back to the set.

``stdnum.cn.uscc.validate`` insists on digits in positions 1-8 and so refuses real ``N``/``Y``/``A`` codes;
only its check-character calculation, which accepts any character of the set, is used here.
"""

from __future__ import annotations

import re

from storage.exceptions import FieldProblem, InvalidInput

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18

_WHITESPACE = re.compile(r"\s+")
_REGION = re.compile(r"[0-9]{6}")
# Full-width ASCII variants (U+FF01-U+FF5E) sit at a fixed offset from ASCII; mapping only that block
# (plus the ideographic space) avoids NFKC's other rewrites such as circled digits turning into digits.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalise_uscc(raw: str) -> str:
    """Remove whitespace, turn full-width characters into ASCII and upper-case the code."""
    return _WHITESPACE.sub("", raw.translate(_FULL_WIDTH)).upper()


def check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1 or any(c not in CHARSET for c in first17):
        raise ValueError("need 17 characters from the USCC character set")
    # Imported at first use, like registry.codes' check characters: python-stdnum's package brings pydoc.
    from stdnum.cn import uscc

    check: str = uscc.calc_check_digit(first17)
    return check


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Invalid Unified Social Credit Code: {message}", errors=[FieldProblem(field, message)])


def validate_uscc(raw: str, field: str = "uscc") -> str:
    """Return the normalised code, or raise InvalidInput saying exactly what is wrong with it."""
    code = normalise_uscc(raw)
    if len(code) != LENGTH:
        raise _invalid(field, f"must be {LENGTH} characters long, found {len(code)}")
    bad = [(pos, c) for pos, c in enumerate(code, start=1) if c not in CHARSET]
    if bad:
        listed = ", ".join(f"{c!r} at position {pos}" for pos, c in bad)
        raise _invalid(
            field,
            f"character(s) {listed} not allowed: only digits and the letters of "
            f"{CHARSET[10:]} are used (never I, O, Z, S or V)",
        )
    region = code[2:8]
    if not _REGION.fullmatch(region):
        raise _invalid(field, f"positions 3-8 (region code) must be six digits, found {region!r}")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise _invalid(field, f"check character (position 18) is {code[17]!r} but should be {expected!r}")
    return code


def is_valid_uscc(raw: str) -> bool:
    """Tell whether the input is a valid code once normalised."""
    try:
        validate_uscc(raw)
    except InvalidInput:
        return False
    return True


def region_code(uscc: str) -> str:
    """Return the six-digit region code (positions 3-8) of a valid code."""
    return validate_uscc(uscc)[2:8]
