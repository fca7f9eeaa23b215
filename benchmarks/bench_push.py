"""Image push to a registry: a model-only change reuses every layer but the model's.

Starts Debian's docker-registry on 127.0.0.1 (scripts/setup.sh installs it) with an empty
storage folder, builds two versions that differ only in the model (tests/engine/serving_repo.py),
then pushes v1 (every layer: base, dependencies, serving code, model) and v2 through the image
provider's push, timing each and measuring the bytes the registry stored. Needs a Docker engine.
Removes everything it built and stops the registry at the end.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)

from mlopsctl.providers.image import build
from mlopsctl.serving import buildctx as bctx
from mlopsctl.serving import engine, oci
from tests.serving.image_registry import ImageRegistry
from tests.serving.serving_repo import base_image, cleanup, context, fit, free_ports, new_repo, register, unique_project


def main() -> None:
    client = engine.client()
    project = unique_project()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        [port] = free_ports(1)
        (t / "storage").mkdir()
        (t / "config.yml").write_text(f"version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: "
                                      f"{{rootdirectory: {t / 'storage'}}}}}\nhttp: {{addr: 127.0.0.1:{port}}}\n")
        reg = ImageRegistry(port=port, storage=t / "storage", config=t / "config.yml", log=t / "registry.log")
        reg.start()
        root = new_repo(t, project=project, base=base_image(), envs={"e": 8101}, serve={"e": {"version": "latest"}})
        register(root, fit(root, n_estimators=50), 1)
        register(root, fit(root, n_estimators=60), 2)
        images = {"base": base_image(), "ca_certificates": [], "repository": f"127.0.0.1:{port}/bench"}
        ctx = context(root, project={"images": images}, logs=[])
        from mlopsctl.registry.api import model_registry

        mreg = model_registry(ctx, "iris")
        repo = bctx.repository(ctx, "iris")
        rows = []
        try:
            for version in (1, 2):
                bc = bctx.build_context(ctx, "iris", mreg.resolve(version))  # type: ignore[arg-type]
                build(ctx, client, bc)
                before = reg.stored_bytes()
                t0 = time.perf_counter()
                facts = oci.push(client, repo, [f"ctx-{bctx.short(bc.digest)}"], lambda _m: None)
                seconds = time.perf_counter() - t0
                rows.append((version, seconds, reg.stored_bytes() - before, facts))
        finally:
            reg.stop()
            cleanup(project)
    for version, seconds, stored, facts in rows:
        print(f"push v{version}: {seconds:6.2f} s, {stored / 1e6:8.2f} MB stored, "
              f"{facts['layers_pushed']} layers pushed, {facts['layers_reused']} already there")
    (_, s1, b1, _), (_, s2, b2, _) = rows
    print(f"model-only change: {s2 / s1:.1%} of the first push's time, {b2 / b1:.2%} of its bytes")


if __name__ == "__main__":
    main()
