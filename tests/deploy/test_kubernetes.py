"""deploy/k8s/, as a cluster would take it (none runs here): each kustomization built the way kustomize builds it
(resources, namespace, images and JSON 6902 patches, applied here; any other field fails the test, so nothing is
silently left out), every object valid against the schemas of Kubernetes KUBERNETES_VERSION (kubernetes-validate,
strict: unknown fields are errors), and the objects consistent with each other, with the image and with pdr."""

from __future__ import annotations

import copy
import secrets
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from storage.s3store import parse_s3_url
from tests.support.deploy import DEPLOY, SECRET_SETTINGS, dockerfile_stages, pdr_accepts, setting_names, settings_from

KUBERNETES_VERSION = "1.34.0"
K8S = DEPLOY / "k8s"
BASE, PRODUCTION = K8S / "base", K8S / "overlays" / "production"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
APPLIED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
POD_OWNERS = {"Deployment", "Job"}

Object = dict[str, Any]


def _documents(path: Path) -> list[Object]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def _pointer(path: str) -> list[str]:
    """A JSON pointer's reference tokens (RFC 6901: ~1 is '/', ~0 is '~')."""
    assert path.startswith("/"), path
    return [token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/")]


def _apply_operation(document: Object, operation: Object) -> None:
    """One RFC 6902 operation (add, replace, remove, test) on the document, in place."""
    *parents, last = _pointer(operation["path"])
    node: Any = document
    for token in parents:
        node = node[int(token)] if isinstance(node, list) else node[token]
    op = operation["op"]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, operation["value"])
        elif op == "replace":
            node[index] = operation["value"]
        elif op == "remove":
            del node[index]
        else:
            assert op == "test" and node[index] == operation["value"], operation
        return
    assert op == "add" or last in node, f"{operation['path']} is not there to {op}"
    if op in ("add", "replace"):
        node[last] = operation["value"]
    elif op == "remove":
        del node[last]
    else:
        assert op == "test" and node[last] == operation["value"], operation


def _matches(document: Object, target: Object) -> bool:
    group, _, version = document["apiVersion"].rpartition("/")
    wanted = {"group": group, "version": version, "kind": document["kind"], "name": document["metadata"]["name"]}
    return all(wanted[key] == value for key, value in target.items())


def _patch(objects: list[Object], patch: Object, folder: Path) -> None:
    assert set(patch) == {"target", "path"}, f"only JSON 6902 patches from files are applied here: {patch}"
    (document,) = [candidate for candidate in objects if _matches(candidate, patch["target"])]
    operations = yaml.safe_load((folder / patch["path"]).read_text())
    assert isinstance(operations, list), f"{patch['path']} is not a list of JSON 6902 operations"
    for operation in operations:
        _apply_operation(document, operation)


def _containers(document: Object) -> list[Object]:
    if document["kind"] not in POD_OWNERS:
        return []
    pod = document["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def _set_image(objects: list[Object], image: Object) -> None:
    for document in objects:
        for container in _containers(document):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"


def build(folder: Path) -> list[Object]:
    """The objects `kustomize build FOLDER` prints, for the fields this repository's kustomizations use."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unapplied = set(kustomization) - APPLIED_FIELDS
    assert not unapplied, f"{folder}: this test does not apply {unapplied}; apply it here before using it"
    objects: list[Object] = []
    for entry in kustomization.get("resources", []):
        resource = (folder / entry).resolve()
        objects += build(resource) if resource.is_dir() else _documents(resource)
    for patch in kustomization.get("patches", []):
        _patch(objects, patch, folder)
    for image in kustomization.get("images", []):
        _set_image(objects, image)
    if namespace := kustomization.get("namespace"):
        for document in objects:
            if document["kind"] not in CLUSTER_SCOPED:
                document["metadata"]["namespace"] = namespace
    return objects


def _one(objects: list[Object], kind: str, name: str = "pdr") -> Object:
    (found,) = [document for document in objects if document["kind"] == kind and document["metadata"]["name"] == name]
    return found


def _server(objects: list[Object]) -> Object:
    """The Deployment's one container."""
    (container,) = _one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


@pytest.fixture(params=[BASE, PRODUCTION], ids=["base", "production"])
def objects(request: pytest.FixtureRequest) -> list[Object]:
    """Every object of one build, in order."""
    return build(request.param)


def test_every_object_is_valid_for_the_pinned_kubernetes_version(objects: list[Object]) -> None:
    assert len(objects) >= 10
    for document in [*objects, *_documents(SECRET_EXAMPLE)]:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validation_refuses_an_unknown_field_and_a_wrong_type() -> None:
    deployment = _one(build(BASE), "Deployment")
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["replica"] = 3
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    wrong = copy.deepcopy(deployment)
    wrong["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8000"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBERNETES_VERSION, strict=True)


def test_the_production_overlay_changes_what_it_says() -> None:
    base, production = build(BASE), build(PRODUCTION)
    assert _one(base, "Deployment")["spec"]["replicas"] == 2 and _one(production, "Deployment")["spec"]["replicas"] == 3
    assert _one(production, "HorizontalPodAutoscaler")["spec"]["minReplicas"] == 3
    assert {container["image"] for document in production for container in _containers(document)} == {
        "registry.example.gov.cn/pdr/pdr:0.1.0"
    }
    assert _one(production, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    namespaced = [document for document in production if document["kind"] != "Namespace"]
    assert {document["metadata"].get("namespace") for document in namespaced} == {"pdr"}
    annotations = _one(production, "Ingress")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/limit-connections"] == "16"


def test_a_patch_of_a_path_that_is_not_there_fails_the_build() -> None:
    document: Object = {"spec": {"replicas": 1}}
    with pytest.raises(AssertionError, match="replica"):
        _apply_operation(document, {"op": "replace", "path": "/spec/replica", "value": 3})
    _apply_operation(document, {"op": "add", "path": "/metadata", "value": {}})
    _apply_operation(document, {"op": "add", "path": "/metadata/a~1b", "value": "c"})
    assert document == {"spec": {"replicas": 1}, "metadata": {"a/b": "c"}}


def test_pods_run_the_image_as_its_non_root_user_on_a_read_only_root_with_a_writable_tmp(objects: list[Object]) -> None:
    user, _, group = dockerfile_stages()[-1].all("USER")[-1].arguments.partition(":")
    owners = [document for document in objects if document["kind"] in POD_OWNERS]
    assert {document["kind"] for document in owners} == POD_OWNERS
    for document in owners:
        pod = document["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True and str(context["runAsUser"]) == user
        assert str(context["runAsGroup"]) == (group or user)
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            (tmp,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]]
            assert set(container["resources"]) == {"requests", "limits"}
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
            pdr_accepts(container["args"])


def test_probes_ask_pdrs_health_and_readiness_on_the_port_it_serves(objects: list[Object]) -> None:
    container = _server(objects)
    args = container["args"]
    (port,) = container["ports"]
    assert args[0] == "serve" and str(port["containerPort"]) == args[args.index("--port") + 1]
    assert str(port["containerPort"]) == dockerfile_stages()[-1].all("EXPOSE")[-1].arguments
    expected = {"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"}
    for probe, path in expected.items():
        assert container[probe]["httpGet"] == {"path": path, "port": port["name"]}, probe


def test_secrets_are_referenced_and_never_part_of_a_build(
    objects: list[Object], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not [document for document in objects if document["kind"] == "Secret"]
    (example,) = _documents(SECRET_EXAMPLE)
    config = _one(objects, "ConfigMap")["data"]
    assert not set(config) & SECRET_SETTINGS
    for document in objects:
        for container in _containers(document):
            for variable in container.get("env", []):
                assert "value" not in variable, f"{variable['name']} is written into the manifest"
                reference = variable["valueFrom"]["secretKeyRef"]
                assert reference["name"] == example["metadata"]["name"] and reference["key"] == variable["name"]
                assert reference["key"] in example["stringData"]
    assert {variable["name"] for variable in _server(objects)["env"]} == set(example["stringData"]) == SECRET_SETTINGS
    # The ConfigMap and the Secret's keys make settings that production mode accepts.
    unknown = {name for name in config if name.startswith("PDR_")} - setting_names()
    assert not unknown, f"not settings of pdr: {unknown}"
    made_up = {name: secrets.token_urlsafe(32) for name in example["stringData"]}
    settings = settings_from({**config, **made_up}, monkeypatch)
    assert settings.env == "production" and settings.unsafe_for_production() == []
    assert parse_s3_url(settings.objects.storage_url).secure
    assert settings.db.database_url.startswith("postgresql+psycopg://") and "@" in settings.db.database_url
    assert ":" not in settings.db.database_url.split("//", 1)[1].split("@")[0], "a password in the database URL"


def test_the_objects_name_and_select_each_other(objects: list[Object]) -> None:
    deployment = _one(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    service = _one(objects, "Service")
    assert _selects(service["spec"]["selector"], pod_labels)
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == _server(objects)["ports"][0]["name"]
    assert _selects(_one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"], pod_labels)
    autoscaler = _one(objects, "HorizontalPodAutoscaler")["spec"]
    assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "pdr"}
    assert 2 <= autoscaler["minReplicas"] <= autoscaler["maxReplicas"]
    assert _one(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] < autoscaler["minReplicas"]
    ((path,),) = [rule["http"]["paths"] for rule in _one(objects, "Ingress")["spec"]["rules"]]
    assert path["backend"]["service"] == {"name": "pdr", "port": {"name": service_port["name"]}}
    for document in objects:
        if document["kind"] in POD_OWNERS:
            assert _one(objects, "ServiceAccount", document["spec"]["template"]["spec"]["serviceAccountName"])


def test_network_policies_cover_the_server_and_the_init_job(objects: list[Object]) -> None:
    server = _one(objects, "NetworkPolicy")
    init = _one(objects, "NetworkPolicy", "pdr-init")
    deployment_pods = _one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    job_pods = _one(objects, "Job", "pdr-init")["spec"]["template"]["metadata"]["labels"]
    assert _selects(server["spec"]["podSelector"]["matchLabels"], deployment_pods)
    assert not _selects(server["spec"]["podSelector"]["matchLabels"], job_pods)
    assert _selects(init["spec"]["podSelector"]["matchLabels"], job_pods)
    assert server["spec"]["policyTypes"] == init["spec"]["policyTypes"] == ["Ingress", "Egress"]
    # The server takes connections on its port alone; the init Job takes none.
    (allowed,) = server["spec"]["ingress"]
    assert [port["port"] for port in allowed["ports"]] == [_server(objects)["ports"][0]["containerPort"]]
    assert "ingress" not in init["spec"]
    egress_ports = {port["port"] for rule in server["spec"]["egress"] for port in rule["ports"]}
    assert egress_ports == {53, 5432, 443}
    assert init["spec"]["egress"] == server["spec"]["egress"]


def test_the_secret_example_is_outside_every_kustomization() -> None:
    kustomizations = sorted(K8S.rglob("kustomization.yaml"))
    assert len(kustomizations) == 2
    for path in kustomizations:
        kustomization = yaml.safe_load(path.read_text())
        resources = {(path.parent / entry).resolve() for entry in kustomization.get("resources", [])}
        assert SECRET_EXAMPLE not in resources and "secretGenerator" not in kustomization
