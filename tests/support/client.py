"""Helpers of the client's tests: datasets with files of given bytes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.data import bearer, dataset_body


def open_dataset_with(client: TestClient, token: str, payload: bytes, name: str = "stations.bin") -> tuple[str, str]:
    """A published open dataset holding one file with these bytes; returns (dataset id, file id)."""
    created = client.post("/api/v1/datasets", json=dataset_body(access="unconditional"), headers=bearer(token))
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    uploaded = client.post(
        f"/api/v1/datasets/{dataset_id}/files", content=payload, params={"name": name}, headers=bearer(token)
    )
    assert uploaded.status_code == 201, uploaded.text
    assert client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(token)).status_code == 200
    return dataset_id, uploaded.json()["id"]
