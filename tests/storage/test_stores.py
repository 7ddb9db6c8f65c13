"""Choosing the object store by URL: the allowed schemes, and credentials from settings only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storage.stores import open_object_store

REFUSED_URLS = {
    "file-relative": ("file:var/objects", "absolute"),
    "file-host": ("file://var/objects", "absolute path"),
    "file-root": ("file:///", "below the filesystem root"),
    "file-query": ("file:///srv/objects?mode=fast", "no query"),
    "http": ("http://example.org/objects", "allowed schemes"),
    "ftp": ("ftp://example.org/objects", "allowed schemes"),
    "bare-path": ("/srv/objects", "allowed schemes"),
    "empty": ("", "allowed schemes"),
    "s3-user-password": ("s3://AKIAEXAMPLE:topsecret@bucket/p?endpoint=127.0.0.1:9000", "credentials"),
    "s3-user": ("s3://topsecret@bucket/p", "credentials"),
    "s3-unknown-parameter": ("s3://bucket/p?endpoint=127.0.0.1:9000&password=topsecret", "unknown"),
    "s3-endpoint-with-scheme": ("s3://bucket/p?endpoint=http://127.0.0.1:9000", "endpoint"),
    "s3-secure-not-boolean": ("s3://bucket/p?secure=maybe", "secure"),
    "s3-bad-bucket": ("s3://Bad_Bucket/p", "bucket"),
    "s3-dot-dot": ("s3://bucket/a/../p", "'..'"),
}


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS.values(), ids=REFUSED_URLS.keys())
def test_open_object_store_refuses(url: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        open_object_store(url, access_key="ak", secret_key="sk")
    assert reason in str(caught.value)
    assert "topsecret" not in str(caught.value)


def test_open_object_store_file_url(tmp_path: Path) -> None:
    root = tmp_path / "with space"
    store = open_object_store(root.as_uri(), access_key=None, secret_key=None)
    assert not root.exists()  # nothing happens until the store is used
    stored = store.put_stream([b"data"])
    path = store.local_path(stored.sha256)
    assert path is not None and path.is_relative_to(root)


def test_open_object_store_s3_needs_credentials_from_settings() -> None:
    url = "s3://bucket/prefix?endpoint=127.0.0.1:9000&secure=false"
    with pytest.raises(ValueError, match="PDR_S3_ACCESS_KEY"):
        open_object_store(url, access_key=None, secret_key=None)
    store = open_object_store(url, access_key="ak", secret_key="sk")
    assert store.local_path(hashlib.sha256(b"x").hexdigest()) is None
