"""The vocabularies of pdr's DCAT-AP 3 documents: namespaces, and the EU authority tables pdr's values map to."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS, XSD

from registry.enums import Openness, UpdateCycle

ADMS = Namespace("http://www.w3.org/ns/adms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
EU_ACCESS = Namespace("http://publications.europa.eu/resource/authority/access-right/")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
IANA = "https://www.iana.org/assignments/media-types/"
# DCAT 3 terms rdflib's closed DCAT 2 namespace does not know.
DCAT_VERSION = URIRef(str(DCAT) + "version")

ACCESS_RIGHTS = {
    Openness.unconditional.value: EU_ACCESS.PUBLIC,
    Openness.conditional.value: EU_ACCESS.RESTRICTED,
    Openness.not_open.value: EU_ACCESS.NON_PUBLIC,
}
FREQUENCIES = {
    UpdateCycle.realtime.value: EU_FREQUENCY.UPDATE_CONT,
    UpdateCycle.daily.value: EU_FREQUENCY.DAILY,
    UpdateCycle.weekly.value: EU_FREQUENCY.WEEKLY,
    UpdateCycle.monthly.value: EU_FREQUENCY.MONTHLY,
    UpdateCycle.quarterly.value: EU_FREQUENCY.QUARTERLY,
    UpdateCycle.yearly.value: EU_FREQUENCY.ANNUAL,
    UpdateCycle.irregular.value: EU_FREQUENCY.IRREG,
    UpdateCycle.static.value: EU_FREQUENCY.NEVER,
}
LICENCES = {
    "cc-by": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-zero": "https://creativecommons.org/publicdomain/zero/1.0/",
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "odc-by": "https://opendatacommons.org/licenses/by/1-0/",
    "odc-odbl": "https://opendatacommons.org/licenses/odbl/1-0/",
    "odc-pddl": "https://opendatacommons.org/licenses/pddl/1-0/",
}
MEDIA_TYPES = {
    "CSV": "text/csv",
    "JSON": "application/json",
    "XML": "application/xml",
    "XLS": "application/vnd.ms-excel",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "PDF": "application/pdf",
    "ZIP": "application/zip",
    "GEOJSON": "application/geo+json",
    "TXT": "text/plain",
    "HTML": "text/html",
}
JSONLD_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "skos": str(SKOS),
    "adms": str(ADMS),
    "hydra": str(HYDRA),
    "spdx": str(SPDX),
    "xsd": str(XSD),
}
