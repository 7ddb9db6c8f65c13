"""Reading DCAT: a distribution or landing page whose http(s) IRI is not a valid URL, or a text holding a control
character, refuses its dataset with a reason; other datasets of the graph still import."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import DCAT

from catalog.interop.dcat.read import dcat_records
from catalog.interop.records import ImportRecord, RecordError


def _graph(**dataset: Any) -> Graph:
    document = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@graph": [
            {
                "@id": "https://example.org/ds/good",
                "@type": "dcat:Dataset",
                "dct:identifier": "good-one",
                "dct:title": "好数据",
                "dcat:distribution": {"@type": "dcat:Distribution", "dcat:accessURL": {"@id": "https://example.org/a"}},
            },
            {"@id": "https://example.org/ds/bad", "@type": "dcat:Dataset", "dct:identifier": "bad-one", **dataset},
        ],
    }
    return Graph().parse(data=json.dumps(document), format="json-ld")


def _results(graph: Graph) -> tuple[list[str], list[str]]:
    results = list(dcat_records(graph))
    names = [r.name for r in results if isinstance(r, ImportRecord)]
    errors = [str(r) for r in results if isinstance(r, RecordError)]
    return names, errors


@pytest.mark.parametrize(
    ("dataset", "says"),
    [
        (
            {"dct:title": "x", "dcat:distribution": {"dcat:accessURL": {"@id": 'https://example.org/"x'}}},
            "URL must not contain '\"'",
        ),
        ({"dct:title": "x", "dcat:landingPage": {"@id": "https://example.org/<x>"}}, "landing_page"),
        ({"dct:title": "a\u0000b"}, "title: must not contain control characters (found U+0000)"),
        ({"dct:title": "x", "dcat:keyword": "\u001b"}, "keywords.0: must not contain"),
    ],
)
def test_a_bad_dataset_is_a_record_error_and_the_rest_imports(dataset: dict[str, Any], says: str) -> None:
    names, errors = _results(_graph(**dataset))
    assert names == ["good-one"]
    assert len(errors) == 1 and errors[0].startswith("https://example.org/ds/bad: ") and says in errors[0], errors


def test_a_download_url_with_a_space_or_control_character_is_a_record_error() -> None:
    # rdflib's JSON-LD parser drops such IRIs itself; other sources (RDF/XML, N-Triples) may keep them.
    for url, says in (("https://example.org/a b", "U+0020"), ("https://example.org/a\x07", "U+0007")):
        graph = _graph(**{"dct:title": "x"})
        distribution = BNode()
        graph.add((URIRef("https://example.org/ds/bad"), DCAT.distribution, distribution))
        graph.add((distribution, DCAT.downloadURL, URIRef(url)))
        names, errors = _results(graph)
        assert names == ["good-one"] and len(errors) == 1 and f"URL must not contain {says}" in errors[0]


def test_a_distribution_of_another_scheme_is_left_out() -> None:
    graph = _graph(**{"dct:title": "x", "dcat:distribution": {"dcat:accessURL": {"@id": "ftp://x/y"}}})
    names, errors = _results(graph)
    assert sorted(names) == ["bad-one", "good-one"] and errors == []
