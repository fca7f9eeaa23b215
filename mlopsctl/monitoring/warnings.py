"""What ``plan`` says about drift: warnings for deployed models, and the stage's rerun reason.

Both run on every plan, so they stay cheap: a few small JSON files, the data file's digest
through the run's stat cache, and the registry tags only when a drifted record exists. No
numpy, pandas or scikit-learn here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.monitoring.state import committed_path, last_checks, read_json

if TYPE_CHECKING:
    from mlopsctl.core.context import Context


def _superseded(ctx: Context, model: str, record: dict[str, Any]) -> bool:
    """A newer version than the one checked is registered: the drift was answered by retraining."""
    checked = record.get("version")
    if not isinstance(checked, int):
        return False
    try:
        from mlopsctl.registry.api import state_for

        latest = state_for(ctx).model(model).latest
    except Exception:  # noqa: BLE001 - no registry readable: keep the warning
        return False
    return latest is not None and latest.version > checked


def plan_warnings(ctx: Context) -> list[str]:
    """One warning per deployed model (a ``serve`` section) whose last drift check found drift.

    Registered in ``core.provider.PLAN_WARNINGS``; the engine shows them with the plan
    (``Plan.warnings``).
    """
    out: list[str] = []
    for model, doc in ctx.project.models.items():
        if not doc.model.serve:
            continue
        checks = last_checks(Path(ctx.root), model)
        if not checks or not checks[0].get("drifted") or _superseded(ctx, model, checks[0]):
            continue
        last = checks[0]
        where = last.get("environment") or last.get("source") or "data"
        version = f" v{last['version']}" if last.get("version") is not None else ""
        env = last.get("environment")
        again = f"mlopsctl drift {model}" + (f" --env {env}" if env else f" --data {last.get('source')}")
        out.append(f"{model}{version}: the last drift check ({where}, {last.get('checked_at')}) found "
                   f"{last.get('headline')}; see `{again}`")
    return out


def drift_reason(ctx: Context, model: str) -> str | None:
    """The committed drift check that explains this model's data change, as a plan reason
    ("drift: psi 0.31 > 0.2 on petal_width (checked ...)"), or None.

    It explains the change only while the data file still has the digest the check recorded.
    """
    record = read_json(Path(ctx.root) / committed_path(model))
    if not record or not record.get("drifted"):
        return None
    data = record.get("data") or {}
    path, md5 = data.get("path"), data.get("md5")
    if not path or not md5:
        return None
    full = Path(ctx.root) / str(path)
    if not full.is_file():
        return None

    if ctx.digests.digest(full, "md5") != md5:
        return None
    return f"{record.get('headline')} (checked {record.get('checked_at')})"
