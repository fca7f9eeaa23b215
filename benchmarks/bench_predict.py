"""/predict latency p50/p99 for 1 row and a 100-row batch, against a running serving container.

Builds (layer cache allowed) and deploys one model version of a throw-away repository, then
drives POST /predict with `wrk` (Debian package `wrk`; a small keep-alive Python client when it
is missing) for a fixed duration per payload and prints the latency percentiles. Needs a Docker
engine (scripts/engine-up.sh). Removes the container and image at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)

from mlopsctl.core.plan import diff_one
from mlopsctl.core.provider import get_provider
from tests.builders import FEATURES
from tests.serving.serving_repo import base_image, cleanup, context, fit, free_ports, new_repo, register, unique_project

LUA = """wrk.method = "POST"
wrk.body = io.open("{body}"):read("*a")
wrk.headers["Content-Type"] = "application/json"
"""


def payload(n: int) -> bytes:
    rows = [{f: round(0.5 + (i * 0.37 + j * 1.3) % 6, 1) for j, f in enumerate(FEATURES)} for i in range(n)]
    return json.dumps({"rows": rows}).encode()


def with_wrk(port: int, body: bytes, seconds: int, connections: int, tmp: Path) -> dict[str, float]:
    (tmp / "body.json").write_bytes(body)
    script = tmp / "post.lua"
    script.write_text(LUA.format(body=tmp / "body.json") + _REPORT)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), "--latency", f"http://127.0.0.1:{port}/predict"],
        capture_output=True, text=True, check=True,
    ).stdout
    m = dict(re.findall(r"^(p50|p99|rps|non2xx) ([\d.]+)$", out, re.MULTILINE))
    return {k: float(v) for k, v in m.items()}


_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("p50 %.3f\\n", latency:percentile(50) / 1000))
  io.write(string.format("p99 %.3f\\n", latency:percentile(99) / 1000))
  io.write(string.format("rps %.1f\\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("non2xx %d\\n", summary.errors.status))
end
"""


def with_python(port: int, body: bytes, seconds: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status == 200, resp.status
    q = statistics.quantiles(times, n=100)
    return {"p50": q[49], "p99": q[98], "rps": len(times) / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=1, help="concurrent keep-alive connections (wrk)")
    args = ap.parse_args()
    project = unique_project()
    [port] = free_ports(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = new_repo(Path(tmp), project=project, base=base_image(), envs={"bench": port},
                        serve={"bench": {"version": 1}})
        register(root, fit(root, n_estimators=100), 1)
        try:
            ctx = context(root, logs=[])
            for kind in ("image", "deployment"):
                for r in get_provider(kind).expand(ctx):
                    change = diff_one(ctx, r.address, r)
                    ctx.upstream[r.address] = change
                    if change.action.value != "no-op":
                        get_provider(kind).apply(change, ctx)
            tool = "wrk" if shutil.which("wrk") else "python"
            print(f"model: RandomForest(100 trees) on 4 features; tool: {tool}, {args.connections} connection(s), "
                  f"{args.seconds}s per payload")
            for n in (1, 100):
                body = payload(n)
                res = with_wrk(port, body, args.seconds, args.connections, Path(tmp)) if tool == "wrk" else \
                    with_python(port, body, args.seconds)
                extra = f"  non-2xx {res['non2xx']:.0f}" if "non2xx" in res else ""
                print(f"/predict {n:>3} row(s): p50 {res['p50']:7.2f} ms  p99 {res['p99']:7.2f} ms  "
                      f"({res['rps']:.0f} req/s){extra}")
        finally:
            cleanup(project)


if __name__ == "__main__":
    main()
