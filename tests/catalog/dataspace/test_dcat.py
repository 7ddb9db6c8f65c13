"""The DCAT views carry each dataset's offers as odrl:hasPolicy, in ODRL's own RDF."""

from __future__ import annotations

from fastapi.testclient import TestClient
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from catalog.dataspace.profile import PROFILE
from tests.support.data import bearer
from tests.support.dataspace import offer_body
from tests.support.exchange import World

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")


def test_dcat_documents_link_each_offer_with_its_terms(client: TestClient, world: World) -> None:
    w = world
    made = client.post(f"/api/v1/datasets/{w.conditional}/offers", json=offer_body(), headers=bearer(w.provider.token))
    assert made.status_code == 201, made.text
    offer = URIRef(f"urn:pdr:offer:{made.json()['id']}")
    dataset = URIRef(f"http://testserver/dcat/datasets/{w.conditional}")
    for path, fmt in ((f"/dcat/datasets/{w.conditional}.ttl", "turtle"), ("/dcat/catalog.jsonld", "json-ld")):
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        graph = Graph().parse(data=answer.text, format=fmt)
        assert list(graph.objects(dataset, ODRL.hasPolicy)) == [offer]
        assert (offer, RDF.type, ODRL.Offer) in graph
        assert (offer, ODRL.profile, URIRef(PROFILE)) in graph
        [permission] = graph.objects(offer, ODRL.permission)
        assert (permission, ODRL.action, ODRL.use) in graph
        left = {graph.value(c, ODRL.leftOperand) for c in graph.objects(permission, ODRL.constraint)}
        assert URIRef(PROFILE + "#modelContract") in left and ODRL.spatial in left
        [fee] = [r for r in graph.objects(offer, ODRL.obligation) if graph.value(r, ODRL.action) == ODRL.compensate]
        amount = graph.value(graph.value(fee, ODRL.constraint), ODRL.rightOperand)
        assert amount == Literal("500.00", datatype=XSD.decimal)
        assert {graph.value(r, ODRL.action) for r in graph.objects(offer, ODRL.prohibition)} == {
            ODRL.distribute,
            ODRL.grantUse,
        }
    open_dataset = Graph().parse(data=client.get(f"/dcat/datasets/{w.open_dataset}.ttl").text, format="turtle")
    assert not list(open_dataset.triples((None, ODRL.hasPolicy, None)))
