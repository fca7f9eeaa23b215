"""A real S3-compatible server for the tests: moto's server mode on 127.0.0.1 and a free port.

``moto_server`` is started once per test session and stopped at its end; each test gets its
own bucket (``s3_remote``), so tests never see each other's objects. DVC reaches the server
with the remote's ``endpointurl`` and the dummy credentials set here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class S3Remote:
    endpoint: str
    bucket: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/dvc"

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def objects(self) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def wipe(self) -> None:
        client = self.client()
        for key in self.objects():
            client.delete_object(Bucket=self.bucket, Key=key)

    def configure(self, root: Path, name: str = "storage") -> None:
        """Point the repository's DVC remote ``name`` at this bucket (endpointurl in .dvc/config)."""
        dvc = str(Path(sys.executable).with_name("dvc"))
        for args in (["remote", "add", "-f", "-d", name, self.url],
                     ["remote", "modify", name, "endpointurl", self.endpoint]):
            subprocess.run([dvc, *args], cwd=root, check=True, capture_output=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if server is None:
        pytest.fail("moto_server is not installed: scripts/setup.sh installs the test extra (moto[server])")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(endpoint + "/", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"moto_server exited: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def s3_remote(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Remote:
    """A fresh bucket on the session's server; credentials in the environment (as CI secrets would be)."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    remote = S3Remote(s3_endpoint, f"mlops-{uuid.uuid4().hex[:12]}")
    remote.client().create_bucket(Bucket=remote.bucket)
    return remote


__all__ = ["CREDENTIALS", "S3Remote"]
