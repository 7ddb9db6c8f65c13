"""Choosing the object store a URL names, from the allow-list of schemes: file:// and s3://."""

from __future__ import annotations

from storage.filestore import FileObjectStore, parse_file_url
from storage.objects import ObjectStore


def open_object_store(
    url: str, *, access_key: str | None, secret_key: str | None, region: str | None = None
) -> ObjectStore:
    """Build the store a URL names: file:///abs/path or s3://bucket/prefix?endpoint=host:port&secure=."""
    scheme, _, _ = url.partition(":")
    scheme = scheme.lower()
    if scheme == "file":
        return FileObjectStore(parse_file_url(url))
    if scheme == "s3":
        # Imported here: the S3 client (minio, urllib3) costs a process of a file store 7 MB and a quarter second.
        from storage.s3store import S3ObjectStore

        return S3ObjectStore.from_url(url, access_key=access_key, secret_key=secret_key, region=region)
    raise ValueError(
        "unsupported object store URL: allowed schemes are file (file:///absolute/path) and "
        "s3 (s3://bucket/prefix?endpoint=host:port&secure=false)"
    )
