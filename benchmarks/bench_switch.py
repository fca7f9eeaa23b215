"""A switch on Docker under load: requests sent, failed, and latency while versions change.

Builds two versions that differ only in the model (tests/engine/serving_repo.py), serves v1 on a
free 127.0.0.1 port, then, with a bounded client (one request at a time, a new connection each,
tests/engine/switch_client.py) posting to the environment's address the whole time, promotes to
v2, rolls back to v1 and promotes again. Also measures the same client for as long with no
switch, as the baseline. Needs a Docker engine; removes everything it made at the end.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)

from mlopsctl.core.model import Action
from mlopsctl.core.plan import diff_one
from mlopsctl.core.provider import get_provider
from tests.serving.serving_repo import base_image, cleanup, context, fit, free_ports, new_repo, register, unique_project
from tests.serving.switch_client import Client


def converge(root: Path, kind: str, version: int, port: int) -> None:
    ctx = context(root, serve={"bench": {"version": version}}, project={"environments": {"bench": {"port": port}}})
    provider = get_provider(kind)
    for r in provider.expand(ctx):
        change = diff_one(ctx, r.address, r)
        ctx.upstream[r.address] = change
        if change.action is not Action.NOOP:
            provider.apply(change, ctx)


def report(name: str, client: Client, seconds: float) -> None:
    print(f"{name:28}: {client.sent:5d} sent, {len(client.failed)} failed, "
          f"p50 {client.percentile(50) * 1000:6.1f} ms, p99 {client.percentile(99) * 1000:7.1f} ms, "
          f"max {max(client.latencies) * 1000:7.1f} ms over {seconds:5.1f} s")
    for failure in client.failed[:5]:
        print(f"    {failure}")


def main() -> None:
    project = unique_project()
    with tempfile.TemporaryDirectory() as tmp:
        [port] = free_ports(1)
        root = new_repo(Path(tmp), project=project, base=base_image(), envs={"bench": port},
                        serve={"bench": {"version": 1}})
        register(root, fit(root, n_estimators=20), 1)
        register(root, fit(root, n_estimators=40), 2)
        try:
            for version in (1, 2):
                converge(root, "image", version, port)
            converge(root, "deployment", 1, port)
            t0 = time.perf_counter()
            with Client(port).running() as switching:
                for version in (2, 1, 2):  # promotion, rollback, promotion
                    converge(root, "deployment", version, port)
            switch_seconds = time.perf_counter() - t0
            with Client(port).running() as baseline:
                time.sleep(switch_seconds)
        finally:
            cleanup(project)
    report("3 switches (v1->v2->v1->v2)", switching, switch_seconds)
    report("baseline, no switch", baseline, switch_seconds)


if __name__ == "__main__":
    main()
