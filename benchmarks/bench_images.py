"""Image rebuild after a model-only change against a cold build (target: at most 20%).

Makes a throw-away repository with two registered versions that differ only in the model
(tests/engine/serving_repo.py), builds v1 ignoring the engine's layer cache (cold: base layers
plus a full `pip install` of the serving stack and scikit-learn), then builds v2 normally: only
the model layer and the label step should run. Needs a Docker engine (scripts/engine-up.sh).
Removes everything it built at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)

from mlopsctl.providers.image import build
from mlopsctl.serving import buildctx as bctx
from mlopsctl.serving import engine
from tests.serving.serving_repo import base_image, cleanup, context, fit, new_repo, register, unique_project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", default=None, help="base image (default: the local one if present)")
    args = ap.parse_args()
    client = engine.client()
    project = unique_project()
    with tempfile.TemporaryDirectory() as tmp:
        root = new_repo(Path(tmp), project=project, base=args.base or base_image(), envs={"e": 8101},
                        serve={"e": {"version": "latest"}})
        register(root, fit(root, n_estimators=50), 1)
        register(root, fit(root, n_estimators=60), 2)
        ctx = context(root, logs=[])
        from mlopsctl.registry.api import model_registry

        reg = model_registry(ctx, "iris")
        try:
            t0 = time.perf_counter()
            build(ctx, client, bctx.build_context(ctx, "iris", reg.resolve(1)), nocache=True)  # type: ignore[arg-type]
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            build(ctx, client, bctx.build_context(ctx, "iris", reg.resolve(2)))  # type: ignore[arg-type]
            warm = time.perf_counter() - t0
        finally:
            cleanup(project)
    print(f"cold build (no layer cache)      : {cold:7.1f} s")
    print(f"rebuild after model-only change  : {warm:7.1f} s")
    print(f"ratio                            : {warm / cold:7.1%}  (target <= 20%)")
    sys.exit(0)


if __name__ == "__main__":
    main()
