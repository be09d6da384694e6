"""Bucket setup: on SeaweedFS (real S3 over HTTP) and, for the website API it lacks, on moto."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from flows.publish.s3 import make_client, setup_bucket


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 emulator on loopback: used only for the website API SeaweedFS lacks."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_website_configuration_where_the_server_supports_it(moto_endpoint: str) -> None:
    client = make_client(moto_endpoint, "eu-west-2", "testing", "testing")
    warnings = setup_bucket(client, "moto-notices")
    assert warnings == []
    website = client.get_bucket_website(Bucket="moto-notices")
    assert website["IndexDocument"] == {"Suffix": "index.html"}
    assert website["ErrorDocument"] == {"Key": "error.html"}
    assert client.get_bucket_versioning(Bucket="moto-notices")["Status"] == "Enabled"
    policy = json.loads(client.get_bucket_policy(Bucket="moto-notices")["Policy"])
    assert policy["Statement"][0]["Action"] == ["s3:GetObject"]
    rules = client.get_bucket_cors(Bucket="moto-notices")["CORSRules"]
    assert rules[0]["AllowedMethods"] == ["GET", "HEAD"]
    assert setup_bucket(client, "moto-notices") == []  # idempotent


def test_seaweedfs_lacks_the_website_api_and_we_say_so(seaweed) -> None:
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    warnings = setup_bucket(client, "website-check")
    assert len(warnings) == 1 and warnings[0].startswith("website configuration not supported by this server")
    assert client.get_bucket_versioning(Bucket="website-check")["Status"] == "Enabled"


def test_cors_lets_a_school_website_fetch_the_json(seaweed) -> None:
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    client.put_object(Bucket=seaweed.bucket, Key="cors/notice.json", Body=b"{}", ContentType="application/json; charset=utf-8")
    request = urllib.request.Request(
        f"{seaweed.endpoint_url}/{seaweed.bucket}/cors/notice.json", headers={"Origin": "https://school.example.org"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers.get("Access-Control-Allow-Origin") in ("*", "https://school.example.org")
