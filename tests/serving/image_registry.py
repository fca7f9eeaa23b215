"""A real container registry for tests: Debian's ``docker-registry`` (the distribution registry) on 127.0.0.1.

Installed by scripts/setup.sh; started per test module on a free port with its storage in a
temporary folder, stopped at the end. ``wipe()`` empties the storage (a registry that lost
everything) and restarts it on the same port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.serving.serving_repo import free_ports


@dataclass
class ImageRegistry:
    port: int
    storage: Path
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("docker-registry")
        assert binary is not None
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([binary, "serve", str(self.config)], stdout=out, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"docker-registry did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def wipe(self) -> None:
        self.stop()
        shutil.rmtree(self.storage)
        self.storage.mkdir()
        self.start()

    def catalog(self) -> list[str]:
        with urllib.request.urlopen(f"http://{self.host}/v2/_catalog", timeout=5) as resp:
            return list(json.loads(resp.read())["repositories"])

    def stored_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.storage.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def image_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageRegistry]:
    if shutil.which("docker-registry") is None:
        message = "docker-registry is not installed (scripts/setup.sh installs it: apt-get install docker-registry)"
        if os.environ.get("MLOPSCTL_REQUIRE_ENGINE"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("image-registry")
    [port] = free_ports(1)
    storage = tmp / "storage"
    storage.mkdir()
    config = tmp / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    reg = ImageRegistry(port=port, storage=storage, config=config, log=tmp / "registry.log")
    reg.start()
    try:
        yield reg
    finally:
        reg.stop()
