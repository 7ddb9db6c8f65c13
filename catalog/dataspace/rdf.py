"""A dataset's offers in RDF, for the DCAT views: each an odrl:Offer of pdr's profile, linked by odrl:hasPolicy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from catalog.dataspace.documents import OFFER_PREFIX
from catalog.dataspace.models import DatasetOffer
from catalog.dataspace.profile import ODRL as ODRL_IRI
from catalog.dataspace.profile import OPERANDS, PROFILE, RULE_KINDS, action_iri

ODRL = Namespace(ODRL_IRI)
DATATYPES = {"date": XSD.date, "duration": XSD.duration, "count": XSD.integer, "amount": XSD.decimal}


def _constraint(graph: Graph, rule: BNode, constraint: Mapping[str, Any]) -> None:
    operand = OPERANDS[constraint["leftOperand"]]
    node = BNode()
    graph.add((rule, ODRL.constraint, node))
    graph.add((node, ODRL.leftOperand, URIRef(operand.iri)))
    graph.add((node, ODRL.operator, ODRL[constraint["operator"]]))
    values = constraint["rightOperand"]
    for value in values if isinstance(values, list) else [values]:
        graph.add((node, ODRL.rightOperand, Literal(value, datatype=DATATYPES.get(operand.datatype))))


def add_offer(graph: Graph, dataset: URIRef, offer: DatasetOffer) -> None:
    """Describe one stored offer and link it from its dataset."""
    node = URIRef(OFFER_PREFIX + offer.id)
    graph.add((dataset, ODRL.hasPolicy, node))
    graph.add((node, RDF.type, ODRL.Offer))
    graph.add((node, ODRL.profile, URIRef(PROFILE)))
    for kind in RULE_KINDS:
        for rule in offer.policy.get(kind, []):
            rule_node = BNode()
            graph.add((node, ODRL[kind], rule_node))
            graph.add((rule_node, ODRL.action, URIRef(action_iri(rule["action"]))))
            for constraint in rule.get("constraint", []):
                _constraint(graph, rule_node, constraint)


def add_offers(graph: Graph, datasets: Mapping[str, URIRef], offers: Mapping[str, Sequence[DatasetOffer]]) -> None:
    """Describe the offers of several datasets, each linked from the dataset's node."""
    graph.bind("odrl", ODRL)
    for dataset_id, node in datasets.items():
        for offer in offers.get(dataset_id, []):
            add_offer(graph, node, offer)
