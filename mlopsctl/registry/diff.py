"""``mlopsctl models diff A B``: two experiments side by side, from what Git recorded.

A side is a registered version (``iris@v3``, ``iris@v3.0.0``, or ``v3`` with ``--model``), or any
Git revision: a branch, a tag, a commit. A version is read from its tag record (the metrics the
gate judged, the lineage: data digests, code commit, params); a revision from the files committed
there: ``params/<model>.yaml``, ``reports/<model>/metrics.json`` and ``fairness.json``, and the
data's ``.dvc`` file or ``dvc.lock`` entry. The same files are what ``dvc params diff`` and
``dvc metrics diff`` compare, so the numbers agree with DVC's on the same revisions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.errors import MlopsError

_VERSION = re.compile(r"^(?:(?P<model>[a-z0-9][a-z0-9_-]*)@)?v(?P<n>[1-9]\d*)(?:\.0\.0)?$")


@dataclass
class Side:
    """One experiment: where it comes from and what it recorded."""

    ref: str
    model: str
    commit: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    code_commit: str | None = None
    fairness_gaps: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "label": self.label, "model": self.model, "commit": self.commit,
                "code_commit": self.code_commit, "params": self.params, "metrics": self.metrics, "data": self.data,
                "fairness_gaps": self.fairness_gaps}


def _git(root: Path, *args: str) -> str | None:
    from mlopsctl.workspace import git

    out = git.output(root, *args)
    return None if out is None else out.decode("utf-8", "replace")


def _show(root: Path, commit: str, path: str) -> str | None:
    return _git(root, "show", f"{commit}:{path}")


def flatten(value: Any) -> dict[str, Any]:
    """Nested mappings as dotted keys, as the plan names params; nothing for a bare value."""
    from mlopsctl.pipeline.facts import flatten as dotted

    out = dotted(value)
    out.pop("", None)
    return out


def resolve(root: Path, ref: str, model: str | None) -> Side:
    """``ref`` as a version of ``model`` (or of the model its name gives) or a Git revision."""
    from mlopsctl.registry.state import RegistryState

    m = _VERSION.match(ref)
    if m and (m["model"] or model):
        name = m["model"] or model or ""
        reg = RegistryState.read(root).model(name)
        mv = reg.get(int(m["n"]))
        if mv is None:
            known = ", ".join(f"v{v.version}" for v in reg.versions) or "none"
            raise MlopsError(f"{name} has no registered version v{m['n']} (registered: {known})")
        lin = mv.lineage
        raw = lin.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        # The lineage says what trained it (the params file may be committed only after the tag).
        params = flatten({"estimator": {"class": lin.get("estimator"), "params": lin.get("params") or {}},
                          **{k: lin[k] for k in ("split", "cv", "preprocessing", "features") if lin.get(k)}})
        return Side(ref=ref, model=name, commit=mv.commit, label=f"{name} v{mv.version}", params=params,
                    metrics=dict(mv.metrics), data={k: data.get(k) for k in ("path", "md5") if k in data},
                    code_commit=lin.get("code_commit") or mv.commit,
                    fairness_gaps={k: float(v["gap"]) for k, v in ((mv.fairness or {}).get("gaps") or {}).items()})
    commit = (_git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}") or "").strip()
    if not commit:
        raise MlopsError(f"{ref!r} is neither a registered version (like iris@v2) nor a Git revision of this "
                         "repository (a branch, tag or commit)")
    name = model or _only_model(root, commit, ref)
    return _from_commit(root, ref, name, commit)


def _only_model(root: Path, commit: str, ref: str) -> str:
    listing = _git(root, "ls-tree", "--name-only", commit, "models/") or ""
    names = sorted(Path(p).stem for p in listing.split() if p.endswith(".yaml"))
    if len(names) == 1:
        return names[0]
    raise MlopsError(f"{ref} has {len(names)} models ({', '.join(names) or 'none'}): name one with --model NAME")


def _from_commit(root: Path, ref: str, model: str, commit: str) -> Side:
    from mlopsctl.pipeline.stages import fairness_file
    from mlopsctl.registry.outputs import metrics_path

    side = Side(ref=ref, model=model, commit=commit, label=f"{ref} ({commit[:8]})", code_commit=commit)
    spec = flatten_yaml(_show(root, commit, f"models/{model}.yaml"))
    custom = spec.get("train.metrics") if spec.get("train.cmd") else None
    metrics_file = str(custom) if custom else metrics_path(model)
    side.params = _params_at(root, commit, model)
    metrics_text = _show(root, commit, metrics_file)
    if metrics_text is not None:
        data = json.loads(metrics_text)
        side.metrics = {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    fair = _show(root, commit, fairness_file(model))
    if fair is not None:
        side.fairness_gaps = {k: float(v["gap"]) for k, v in (json.loads(fair).get("gaps") or {}).items()}
    data_path = spec.get("data.path")
    if data_path:
        side.data = _data_digest(root, commit, str(data_path))
    if not (side.params or side.metrics):
        raise MlopsError(f"{ref} records nothing of model {model!r}: no params/{model}.yaml or {metrics_file} there")
    return side


def _params_at(root: Path, commit: str, model: str) -> dict[str, Any]:
    """What training depended on at ``commit`` (``params/<model>.yaml``), flattened."""
    import yaml

    text = _show(root, commit, f"params/{model}.yaml")
    try:
        doc = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return flatten({k: doc[k] for k in ("estimator", "split", "cv", "preprocessing", "features", "fairness")
                    if k in doc})


def flatten_yaml(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    import yaml

    try:
        return flatten(yaml.safe_load(text) or {})
    except yaml.YAMLError:
        return {}


def _data_digest(root: Path, commit: str, data_path: str) -> dict[str, Any]:
    """The data's md5 as DVC recorded it at ``commit``: its ``.dvc`` file, else dvc.lock."""
    import yaml

    dvc_file = _show(root, commit, f"{data_path}.dvc")
    if dvc_file:
        outs = (yaml.safe_load(dvc_file) or {}).get("outs") or [{}]
        return {"path": data_path, "md5": outs[0].get("md5")}
    lock = yaml.safe_load(_show(root, commit, "dvc.lock") or "") or {}
    for stage in (lock.get("stages") or {}).values():
        for dep in stage.get("deps") or ():
            if dep.get("path") == data_path:
                return {"path": data_path, "md5": dep.get("md5")}
    return {"path": data_path}


def compare(a: Side, b: Side) -> dict[str, Any]:
    """Rows of (section, key, a, b, delta) for everything either side recorded."""
    rows: list[dict[str, Any]] = []

    def add(section: str, left: dict[str, Any], right: dict[str, Any], numeric: bool = False) -> None:
        for key in sorted(set(left) | set(right)):
            va, vb = left.get(key), right.get(key)
            delta = (vb - va) if numeric and isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            rows.append({"section": section, "key": key, "a": va, "b": vb, "delta": delta, "changed": va != vb})

    add("metrics", a.metrics, b.metrics, numeric=True)
    add("fairness gap", a.fairness_gaps, b.fairness_gaps, numeric=True)
    add("params", a.params, b.params)
    add("data", a.data, b.data)
    add("code", {"commit": a.code_commit}, {"commit": b.code_commit})
    return {"a": a.to_dict(), "b": b.to_dict(), "rows": rows}
