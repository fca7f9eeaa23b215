"""Request capture as the deployments configure it: settings, container label, mount.

Capture is on for a model whose spec has a ``monitor`` section, unless
``monitor.capture.enabled`` is false (no monitor section: nothing is recorded, since captured
requests are user data). The container writes JSON lines to a host folder the deployment
mounts, ``.mlopsctl/capture/<model>/<env>/``, where ``mlopsctl drift --env ENV`` reads them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.monitoring.current import capture_dir

if TYPE_CHECKING:
    from mlopsctl.specs.model import SpecDoc

MOUNT = "/var/lib/mlopsctl/capture"
"""Where the capture folder appears inside the container."""
LABEL = "mlopsctl.capture"
"""Container label with the capture settings it was started with (a change restarts it)."""


def capture_settings(doc: SpecDoc | None) -> dict[str, float] | None:
    monitor = doc.model.monitor if doc is not None else None
    if monitor is None or not monitor.capture.enabled:
        return None
    return {"sample": monitor.capture.sample, "max_mb": monitor.capture.max_mb}


def capture_label(doc: SpecDoc | None) -> str:
    s = capture_settings(doc)
    return "off" if s is None else f"sample={s['sample']:g},max_mb={s['max_mb']:g}"


def describe(label: str | None) -> str:
    return "off" if label in (None, "", "off") else str(label).replace(",", ", ")


def container_options(root: Path, model: str, env: str, doc: SpecDoc | None) -> dict[str, Any]:
    """docker-py ``containers.run`` keyword arguments that switch capture on (empty when off)."""
    s = capture_settings(doc)
    if s is None:
        return {}
    host = capture_dir(root, model, env)
    host.mkdir(parents=True, exist_ok=True)
    # The server runs as an unprivileged user (uid 10001) that must be able to write here.
    try:
        os.chown(host, 10001, 10001)
    except (PermissionError, OSError):
        os.chmod(host, 0o777)
    return {
        "volumes": {str(host.resolve()): {"bind": MOUNT, "mode": "rw"}},
        "environment": {
            "MLOPSCTL_CAPTURE_DIR": MOUNT,
            "MLOPSCTL_CAPTURE_SAMPLE": f"{s['sample']:g}",
            "MLOPSCTL_CAPTURE_MAX_MB": f"{s['max_mb']:g}",
        },
    }
