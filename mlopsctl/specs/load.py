"""Finding the repository and loading its specs: ``mlops.yaml`` and ``models/*.yaml``.

Loading reports every problem of the run at once (syntax, schema, cross-spec), each with a
file:line:column, so one ``validate`` shows the whole list. Unchanged, valid documents come
from a stat-keyed cache, so loading 1,000 models costs milliseconds when nothing changed;
the cross-spec checks are cheap and always run.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Protocol, TypeGuard

from mlopsctl.errors import Problem, SpecError
from mlopsctl.specs.model import Project, SpecDoc
from mlopsctl.workspace.paths import PROJECT_FILE

MODELS_DIR = "models"
API_VERSION = "mlopsctl/v1"




class Parsed(Protocol):
    """Specs already parsed and found valid elsewhere (a helper process,
    :mod:`mlopsctl.pipeline.prefetch`), for the loader to take instead of parsing them itself."""

    def reached(self, index: int) -> None:
        """The loader starts on ``spec_files(root)[index]``: nobody else needs to parse it now."""

    def get(self, rel: str, digest: str) -> tuple[dict[str, Any], dict[str, tuple[int, int]]] | None:
        """``(data, lines)`` of ``rel`` as :func:`parse_valid` gives them for the very bytes of
        this sha256 ``digest``; None when there are none (yet)."""


def load_project(root: Path, *, cache: bool = True, parsed: Parsed | None = None) -> Project:
    """The validated specs; :class:`SpecError` lists every problem when there is any."""
    project, problems = collect_problems(root, cache=cache, parsed=parsed)
    if problems or project is None:
        raise SpecError(problems)
    return project


def spec_files(root: Path) -> list[str]:
    """Repo-relative paths of the spec files: mlops.yaml first, then models/ sorted by name.

    Files that are not readable regular files inside the repository (a symlink loop or a link
    leading out) are left out here and reported by :func:`layout_problems`.
    """
    return [PROJECT_FILE, *_model_files(root)[0]]


def _model_files(root: Path) -> tuple[list[str], list[Problem]]:
    from mlopsctl.errors import Location
    from mlopsctl.workspace.fsafe import describe, outside_reason

    where = Location(f"{MODELS_DIR}/")
    why = outside_reason(root, MODELS_DIR)
    if why:
        return [], [Problem(where, f"{why}; model specs must live inside the repository")]
    try:
        entries = list(os.scandir(root / MODELS_DIR))
    except FileNotFoundError:
        if not os.path.lexists(root / PROJECT_FILE):
            return [], []  # not a repository at all: "mlops.yaml is missing" says it
        return [], [Problem(where, f"the {MODELS_DIR}/ folder is missing, so there are no model specs; a missing "
                                   "folder never means 'delete every model': restore it (keep an empty one with "
                                   f"a {MODELS_DIR}/.gitkeep file)")]
    except OSError as e:
        return [], [Problem(where, f"cannot read {MODELS_DIR}/: {describe(e)}")]
    out: list[str] = []
    problems: list[Problem] = []
    for entry in sorted(entries, key=lambda x: x.name):
        if not entry.name.endswith((".yaml", ".yml")) or entry.name.startswith("."):
            continue
        rel = f"{MODELS_DIR}/{entry.name}"
        why = outside_reason(root, rel) if entry.is_symlink() else None
        if why:
            fix = "remove or fix the link" if "loop" in why else "model specs must live inside the repository"
            problems.append(Problem(Location(rel), f"{why}; {fix}"))
        elif entry.is_file():
            out.append(rel)
        else:  # never skipped: a model whose spec is not read would be planned for deletion
            problems.append(Problem(Location(rel), f"{_not_a_file(entry)}, where a model spec (a YAML file) is "
                                                   "expected; make it the spec file, or move it out of models/"))
    return out, problems


def _not_a_file(entry: os.DirEntry[str]) -> str:
    import stat

    try:
        mode = entry.stat().st_mode
    except OSError:
        return "a symlink to nothing" if entry.is_symlink() else "unreadable"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a named pipe" if stat.S_ISFIFO(mode) else "not a regular file"


# Folders mlopsctl reads or writes: a symlink leading out of the repository is refused up front.
_FOLDERS = (".github", "docker", "params", "artifacts", "data", "src", ".dvc", ".mlopsctl", PROJECT_FILE,
            "dvc.yaml", "dvc.lock")


def layout_problems(root: Path) -> list[Problem]:
    """The repository's own layout: spec folders present, nothing mlopsctl touches leads outside it."""
    from mlopsctl.errors import Location
    from mlopsctl.workspace.fsafe import outside_reason

    problems = _model_files(root)[1]
    for name in _FOLDERS:
        why = outside_reason(root, name)
        if why:
            problems.append(Problem(Location(name), f"{why}; mlopsctl reads and writes only inside the repository"))
    return problems


def collect_problems(root: Path, *, cache: bool = True,
                     parsed: Parsed | None = None) -> tuple[Project | None, list[Problem]]:
    """Load everything that can be loaded and list every problem found (for ``validate``).

    The Project is None when mlops.yaml itself is unusable; otherwise it holds the models that
    are valid on their own (cross-spec problems are still listed). A spec is taken from ``parsed``
    only for the bytes read here: it is the document parsing them would give.
    """
    from mlopsctl.specs.cache import SpecCache

    root = Path(root).resolve()
    store = SpecCache(root) if cache else None
    problems: list[Problem] = layout_problems(root)
    loaded: list[_Loaded] = []
    for index, rel in enumerate(spec_files(root)):
        if parsed is not None:
            parsed.reached(index)
        if rel == PROJECT_FILE and any(p.location.file == PROJECT_FILE for p in problems):
            continue
        item = _load_doc(root, rel, "Project" if rel == PROJECT_FILE else "Model", store, parsed)
        problems.extend(item.problems)
        if item.doc is not None:
            loaded.append(item)
    if store is not None:
        store.save()
    project_item = next((i for i in loaded if i.doc.path == PROJECT_FILE), None)
    model_items = [i for i in loaded if i.doc.path != PROJECT_FILE]
    # Documents with schema problems still take part in the cross-spec checks (defensively),
    # so one run shows everything; only valid documents make up the Project.
    models, cross = _cross_check(root, project_item, model_items)
    problems.extend(cross)
    problems.sort(key=lambda p: (p.location.file != PROJECT_FILE, p.location.file, p.location.line or 0,
                                 p.location.column or 0))
    project = None
    if project_item is not None and project_item.valid:
        project = Project(root=root, spec=project_item.doc, models=models)
    return project, problems


class _Loaded:
    """One spec file after loading: the document if it parsed, and whether it is schema-valid."""

    __slots__ = ("doc", "problems", "valid")

    def __init__(self, doc: Any, problems: list[Problem], valid: bool) -> None:
        self.doc: SpecDoc = doc
        self.problems = problems
        self.valid = valid


def _load_doc(root: Path, rel: str, kind: str, store: Any, parsed: Parsed | None = None) -> _Loaded:
    from mlopsctl.errors import Location
    from mlopsctl.workspace.digests import read_small

    path = os.path.join(root, rel)  # strings, not pathlib: this runs once per spec on every load
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return _Loaded(None, [Problem(Location(rel), f"{rel} is missing")], False)
    except OSError as e:
        return _Loaded(None, [Problem(Location(rel), f"cannot read {rel}: {e.strerror or e}")], False)
    if store is not None:
        hit = store.get(rel, st)
        if hit is not None:
            return _Loaded(SpecDoc(path=rel, data=hit["data"], lines=hit["lines"], digest=hit["digest"]), [], True)
    try:
        raw = read_small(path)
    except OSError as e:
        return _Loaded(None, [Problem(Location(rel), f"cannot read {rel}: {e.strerror or e}")], False)
    digest = hashlib.sha256(raw).hexdigest()
    ready = parsed.get(rel, digest) if parsed is not None and kind == "Model" else None
    problems: list[Problem] = []
    if ready is not None:
        data, lines = ready
    else:
        data, lines, problems = _parse_and_validate(rel, raw, kind)
    doc = SpecDoc(path=rel, data=data, lines=lines, digest=digest) if data is not None else None
    if store is not None:
        if problems:
            store.forget(rel)
        else:
            store.put(rel, st, data, lines, digest)
    return _Loaded(doc, problems, not problems)


def parse_valid(rel: str, raw: bytes, kind: str) -> tuple[dict[str, Any], dict[str, tuple[int, int]]] | None:
    """``(data, lines)`` of a spec that is valid on its own; None when it is not (whoever loads it
    finds its problems)."""
    data, lines, problems = _parse_and_validate(rel, raw, kind)
    return None if problems or not isinstance(data, dict) else (data, lines)


def _parse_and_validate(rel: str, raw: bytes, kind: str) -> tuple[Any, dict[str, tuple[int, int]], list[Problem]]:
    """(data, lines, problems); data is None when the file is not a usable mapping of this kind."""
    from mlopsctl.specs import schema, yamlio

    parsed = yamlio.parse(rel, raw)
    if parsed.problems:
        return None, {}, parsed.problems
    text = raw.decode("utf-8-sig")
    header = _check_header(rel, kind, parsed.data, parsed.lines, text)
    if header:
        return None, {}, header
    return parsed.data, parsed.lines, schema.validate(kind, parsed.data, rel, parsed.lines, text)


def _check_header(rel: str, kind: str, data: dict[str, Any], lines: dict[str, tuple[int, int]],
                  text: str) -> list[Problem]:
    """Wrong kind or apiVersion: say so alone, rather than as a heap of schema errors."""
    from mlopsctl.errors import Location
    from mlopsctl.specs.yamlio import excerpt, kind_of

    def problem(key: str, message: str, hint: str | None = None) -> Problem:
        line, col = lines.get(key, lines.get("", (1, 1)))
        return Problem(Location(rel, line, col), message, key, hint, excerpt(text, line, col))

    out = []
    api = data.get("apiVersion")
    if "apiVersion" not in data:
        out.append(problem("", f"missing required key 'apiVersion' (expected apiVersion: {API_VERSION})"))
    elif api != API_VERSION:
        out.append(problem("apiVersion", f"unsupported apiVersion {api!r}; expected '{API_VERSION}'"))
    where = "mlops.yaml" if kind == "Project" else "models/"
    other = "Model specs belong in models/<name>.yaml" if kind == "Project" else "the Project spec belongs in mlops.yaml"
    if "kind" not in data:
        out.append(problem("", f"missing required key 'kind' (expected kind: {kind})"))
    elif data["kind"] != kind:
        got = data["kind"]
        hint = None
        if isinstance(got, str) and got.lower() == kind.lower():
            hint = f"did you mean '{kind}'?"
        elif got in ("Project", "Model"):
            hint = other
        out.append(problem("kind", f"expected kind '{kind}' in {where}, got {kind_of(got)}", hint))
    return out


class _Findings:
    """Cross-spec problems; source excerpts are read only for files that have a problem."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self._texts: dict[str, str | None] = {}
        self.dirs: dict[str, str] = {}
        """Repo-relative directory -> its real path, resolved once per load."""

    def add(self, doc: SpecDoc, key: str, message: str, hint: str | None = None) -> None:
        from mlopsctl.specs.yamlio import excerpt

        if doc.path not in self._texts:
            try:
                self._texts[doc.path] = (self.root / doc.path).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                self._texts[doc.path] = None
        loc = doc.loc(key)
        text = self._texts[doc.path]
        ex = excerpt(text, loc.line, loc.column) if text is not None else None
        self.problems.append(Problem(loc, message, key, hint, ex))


def _did_you_mean(word: str, choices: Any) -> str | None:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _map(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else empty: cross checks also read schema-invalid documents."""
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _cross_check(root: Path, project: _Loaded | None, items: list[_Loaded]) -> tuple[dict[str, SpecDoc], list[Problem]]:
    """Checks that need more than one document (or the file system); cheap, so always run."""
    found = _Findings(root)
    envs: list[str] | None = None
    portless: dict[str, str] = {}  # environment -> where mlops.yaml declares it, for those without a port
    if project is not None:
        envs_map = project.doc.data.get("environments")
        if isinstance(envs_map, dict) and envs_map:  # else the schema already complained
            envs = [str(e) for e in envs_map]
            portless = {str(e): str(project.doc.loc(f"environments.{e}")) for e, conf in envs_map.items()
                        if _map(conf).get("port") is None}
        _check_ports(project.doc, found)
    by_name: dict[str, list[SpecDoc]] = {}
    for item in items:
        name = _str(item.doc.data.get("name"))
        if name:
            by_name.setdefault(name, []).append(item.doc)
    for name, same in by_name.items():
        if len(same) > 1:
            for doc in same:
                others = ", ".join(str(o.loc("name")) for o in same if o is not doc)
                found.add(doc, "name", f"model name '{name}' is also used by {others}; model names must be unique")
    models: dict[str, SpecDoc] = {}
    for item in items:
        _check_model(root, item.doc, envs, found)
        for env in _map(item.doc.data.get("serve")):
            if env in portless:
                found.add(item.doc, f"serve.{env}",
                          f"environment '{env}' ({portless[env]}) has no port, so nothing can be served there; "
                          f"give it one in mlops.yaml: environments.{env}.port")
        if item.valid:
            models.setdefault(str(item.doc.data["name"]), item.doc)
    if project is not None:
        _check_bindings(project.doc, [item.doc for item in items], found)
        _check_kubernetes(project.doc, found)
    return models, found.problems


def _check_ports(project: SpecDoc, found: _Findings) -> None:
    seen: dict[int, str] = {}
    for env, conf in _map(project.data.get("environments")).items():
        port = _map(conf).get("port")
        if not isinstance(port, int) or isinstance(port, bool):
            continue
        if port in seen:
            found.add(project, f"environments.{env}.port",
                      f"port {port} is also used by environment '{seen[port]}'; each environment needs its own port")
        else:
            seen[port] = env


def _check_bindings(project: SpecDoc, docs: list[SpecDoc], found: _Findings) -> None:
    """Two deployments must not publish on the same 127.0.0.1 port; each is told where the other is.

    A clash of two environment ports is reported once, by :func:`_check_ports`.
    """
    envs = _map(project.data.get("environments"))
    seen: dict[int, tuple[str, SpecDoc, str, str]] = {}  # port -> (address, doc, key, where the port is set)
    for doc in docs:
        name = _str(doc.data.get("name"))
        for env, entry in _map(doc.data.get("serve")).items():
            if _map(envs.get(env)).get("target") == "kubernetes":
                continue  # a Service in the cluster, no address on this machine
            port, key = _map(entry).get("port"), f"serve.{env}.port"
            if not isinstance(port, int) or isinstance(port, bool):
                port, key = _map(envs.get(env)).get("port"), f"serve.{env}"
            if not isinstance(port, int) or isinstance(port, bool) or name is None:
                continue
            setting = str(doc.loc(key)) if key.endswith(".port") else f"environments.{env}.port"
            what = f"deployment.{name}.{env}"
            if port not in seen:
                seen[port] = (what, doc, key, setting)
                continue
            other, odoc, okey, osetting = seen[port]
            if not key.endswith(".port") and not okey.endswith(".port") and okey.split(".")[1] != env:
                continue  # two environments on one port: already reported
            hint = f"give one of them its own port: serve.{env}.port in {doc.path}"
            found.add(doc, key, f"{what} would bind 127.0.0.1:{port} ({setting}), which {other} binds too "
                                f"({odoc.loc(okey)})", hint)
            found.add(odoc, okey, f"{other} would bind 127.0.0.1:{port} ({osetting}), which {what} binds too "
                                  f"({doc.loc(key)})", hint)


def _check_kubernetes(project: SpecDoc, found: _Findings) -> None:
    """A cluster pulls images from a registry: a kubernetes environment needs images.repository."""
    repo = _str(_map(project.data.get("images")).get("repository")) or ""
    first, sep, _ = repo.partition("/")
    has_registry = bool(sep) and ("." in first or ":" in first or first == "localhost")
    for env, conf in _map(project.data.get("environments")).items():
        if _map(conf).get("target") == "kubernetes" and not has_registry:
            found.add(project, f"environments.{env}.target",
                      f"environment '{env}' deploys to Kubernetes, which pulls images from a registry: set "
                      "images.repository to one the cluster can reach (e.g. ghcr.io/<owner>)")


def _check_model(root: Path, doc: SpecDoc, envs: list[str] | None, found: _Findings) -> None:
    data = doc.data

    def unknown_env(key: str, env: Any) -> None:
        if envs is not None and isinstance(env, str) and env not in envs:
            found.add(doc, key, f"unknown environment '{env}'; the project's environments are: {', '.join(envs)}",
                      _did_you_mean(env, envs))

    for env in _map(data.get("serve")):
        unknown_env(f"serve.{env}", env)
    gates = _map(data.get("gates"))
    nwt = _map(gates.get("no_worse_than"))
    unknown_env("gates.no_worse_than.environment", nwt.get("environment"))
    metrics = data.get("metrics")
    if isinstance(metrics, list) and metrics and all(isinstance(m, str) for m in metrics):
        named: list[tuple[str, Any]] = [(f"gates.{k}", k) for k in gates if k not in ("no_worse_than", "fairness")]
        named.append(("gates.no_worse_than.metric", nwt.get("metric")))
        for key, metric in named:
            if isinstance(metric, str) and metric not in metrics:
                found.add(doc, key, f"gate on metric '{metric}', which is not among the model's metrics "
                                    f"({', '.join(metrics)})", _did_you_mean(metric, metrics))
    features = _map(data.get("features"))
    target = _str(_map(data.get("data")).get("target"))
    if target is not None and target in features:
        found.add(doc, f"features.{target}", f"'{target}' is the target (data.target), so it cannot be a feature too")
    for fname, feat in features.items():
        lo, hi = _map(feat).get("min"), _map(feat).get("max")
        if _number(lo) and _number(hi) and lo > hi:
            found.add(doc, f"features.{fname}.min", f"min {lo} is greater than max {hi}")
    _check_fairness(doc, features, target, found)
    data_path = _str(_map(data.get("data")).get("path"))
    why = _repo_path_problem(root, data_path, must_exist=True, memo=found.dirs) if data_path else None
    if why:
        found.add(doc, "data.path", why)
    retrain = _str(_map(_map(data.get("monitor")).get("retrain")).get("data"))
    if retrain and not retrain.startswith(("http://", "https://")):
        why = _repo_path_problem(root, retrain, must_exist=False, memo=found.dirs)
        if why:
            found.add(doc, "monitor.retrain.data", why)
    train = _map(data.get("train"))
    paths: list[tuple[str, Any]] = [("train.metrics", train.get("metrics"))]
    for group in ("deps", "outs"):
        listed = train.get(group)
        paths.extend((f"train.{group}.{i}", p) for i, p in enumerate(listed if isinstance(listed, list) else []))
    for key, p in paths:
        why = _repo_path_problem(root, p, must_exist=False, memo=found.dirs) if isinstance(p, str) and p else None
        if why:
            found.add(doc, key, why)


def _check_fairness(doc: SpecDoc, features: dict[str, Any], target: str | None, found: _Findings) -> None:
    """Sensitive columns are evaluation-only unless the spec says otherwise, and the gate's
    limits need the per-group evaluation they limit."""
    data = doc.data
    fairness = _map(data.get("fairness"))
    sensitive = fairness.get("sensitive")
    as_features = fairness.get("as_features") is True
    for i, col in enumerate(sensitive if isinstance(sensitive, list) else []):
        if not isinstance(col, str):
            continue
        if col == target:
            found.add(doc, f"fairness.sensitive.{i}", f"'{col}' is the target (data.target); a sensitive column "
                                                      "names groups of rows, it cannot be what the model predicts")
        elif col in features and not as_features:
            found.add(doc, f"features.{col}", f"'{col}' is a sensitive column (fairness.sensitive), so it is not a "
                                              "model feature unless fairness.as_features is true",
                      "remove it from features, or set fairness.as_features: true")
        elif as_features and col not in features:
            found.add(doc, f"fairness.sensitive.{i}", f"fairness.as_features is true but '{col}' is not listed "
                                                      "under features (its type and rules are needed there)")
    limits = _map(_map(data.get("gates")).get("fairness"))
    if limits and not sensitive:
        found.add(doc, "gates.fairness", "gates.fairness limits per-group metrics, but the model names no "
                                         "sensitive columns (fairness.sensitive)")
    task = data.get("task") or "classification"
    allowed = ("mean_absolute_error", "mean_squared_error") if task == "regression" else (
        "accuracy", "precision", "recall", "selection_rate", "false_positive_rate", "false_negative_rate")
    for metric in _map(limits.get("max_gap")):
        if metric not in allowed:
            found.add(doc, f"gates.fairness.max_gap.{metric}", f"'{metric}' is not a per-group metric of a "
                                                               f"{task} model (one of: {', '.join(allowed)})",
                      _did_you_mean(str(metric), allowed))


def _number(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _repo_path_problem(root: Path, p: str, *, must_exist: bool, memo: dict[str, str] | None = None) -> str | None:
    """Why ``p`` is not a usable repository-relative path (None when it is).

    Runs for every model on every load, so it works on strings and resolves each parent
    directory once (``memo``): a thousand models in one data folder cost a thousand lstats.
    """
    import posixpath

    if _CONTROL.search(p):
        return None  # the schema refuses it at the same place; the file system cannot even look it up
    if p.startswith(("/", "~", "\\")) or (len(p) > 1 and p[1] == ":"):
        return f"expected a path relative to the repository root, got {p!r}"
    norm = posixpath.normpath(p)
    if norm == ".." or norm.startswith("../"):
        return f"{p!r} leads outside the repository; data must live inside it"
    if norm == ".":
        return "expected a file path, got the repository root"
    top = str(root)
    parent, _, name = norm.rpartition("/")
    memo = {} if memo is None else memo
    if parent not in memo:
        memo[parent] = os.path.realpath(os.path.join(top, parent)) if parent else top
    full = os.path.join(memo[parent], name)
    try:
        st = os.lstat(full)
    except OSError:
        st = None
    link = st is not None and (st.st_mode & 0o170000) == 0o120000
    if link:  # a symlink: follow it
        full = os.path.realpath(full)
    if full != top and not full.startswith(top + os.sep):
        return f"{p!r} leads outside the repository through a symlink ({full})"
    if st is None or link or memo[parent] != (os.path.join(top, parent) if parent else top):
        from mlopsctl.workspace.fsafe import outside_reason

        # A symlinked folder or file on the way, or a loop. (A file that is no link, in a folder
        # that resolves to itself, has no link on its way: nothing to walk.)
        why = outside_reason(top, norm)
        if why:
            return why
    # Not a symlink: the lstat already says what it is (a thousand models, two stats fewer each).
    if st is not None and (os.path.isdir(full) if link else (st.st_mode & 0o170000) == 0o040000):
        return f"{p!r} is a folder; expected a data file (a CSV, JSON lines or Parquet file)"
    if not must_exist or (st is not None and (not link or os.path.exists(full))):
        return None
    # A DVC-tracked file may be present only as its .dvc file (fresh clone, data not pulled).
    parts = norm.split("/")
    for i in range(len(parts), 0, -1):
        if os.path.isfile(os.path.join(top, "/".join(parts[:i]) + ".dvc")):
            return None
    return f"{p!r} does not exist (nor {p}.dvc); add the data file or fix the path"
