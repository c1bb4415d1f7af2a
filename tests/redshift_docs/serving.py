"""The corpus' S3 objects on a real S3-compatible server (moto's, on loopback), for a replay."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from tests.redshift_docs import data

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIAREPLAYKEY0000000",
    "AWS_SECRET_ACCESS_KEY": "replay-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextlib.contextmanager
def objects_in_s3(tmp: Path) -> Iterator[str]:
    """Start a server, put every object of ``data.OBJECTS`` in its bucket, and point the
    environment sqlml reads at it while the block runs; yields the endpoint."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in [*ENVIRONMENT, "AWS_ENDPOINT_URL_S3"]}
    os.environ.update(ENVIRONMENT, AWS_ENDPOINT_URL_S3=endpoint)
    try:
        root = tmp / "objects"
        data.write_all(root)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        for bucket in sorted(p for p in root.iterdir() if p.is_dir()):
            client.create_bucket(Bucket=bucket.name)
            for path in sorted(p for p in bucket.rglob("*") if p.is_file()):
                client.put_object(
                    Bucket=bucket.name,
                    Key=path.relative_to(bucket).as_posix(),
                    Body=path.read_bytes(),
                )
        yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
