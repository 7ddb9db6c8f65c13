"""Reading `--org-map` files: a JSON object or CSV of two columns; anything else refused with where it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.interop.org_map import read_org_map
from catalog.interop.records import RecordError


def test_csv_with_header_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text("\ufefforganization,entity\n# bureaus\n\njtj , 91440100MA59ABCDE1\n广州地铁,01ENTITY\n", "utf-8")
    assert read_org_map(path) == {"jtj": "91440100MA59ABCDE1", "广州地铁": "01ENTITY"}


def test_json_object(tmp_path: Path) -> None:
    path = tmp_path / "orgs.json"
    path.write_text('{"sthjj": "01ENTITY", "气象局": " 01OTHER "}', "utf-8")
    assert read_org_map(path) == {"sthjj": "01ENTITY", "气象局": "01OTHER"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("three.csv", "jtj,x,y\n", "line 1: want two cells"),
        ("half.csv", "organization,entity\njtj,\n", "line 2: want two cells"),
        ("empty.csv", "# nothing\n", "maps no organisation"),
        ("list.json", "[1]", "JSON object"),
        ("number.json", '{"jtj": 5}', "JSON object"),
        ("broken.json", '{"jtj": ', "not JSON"),
        ("latin1.csv", b"\xe9t\xe9,x\n", "cannot read it"),
    ],
)
def test_mistakes_are_refused_with_where(tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(RecordError, match=message):
        read_org_map(path)
