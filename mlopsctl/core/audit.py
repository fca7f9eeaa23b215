"""The durable audit trail: one record per apply, refused or not, kept in Git itself.

Each apply appends one JSON line to the Git note of the commit it ran on, under
``refs/notes/mlopsctl``: who (the Git identity, or in GitHub Actions the actor and the run's
URL), the commit, the plan's digest, every change's result with its error text, and the
refusal or failure message. Notes travel with ``git push origin refs/notes/mlopsctl`` (the
apply workflows push them with the registry tags, merging concurrent runs line by line), so a
fresh clone and every teammate read the same history: ``mlopsctl state history`` fetches and
reads it. The local journal under ``.mlopsctl/`` still records each step as it finishes (crash
safety); this is the summary that outlives the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlopsctl.core.model import Plan

NOTES_REF = "refs/notes/mlopsctl"


def _git(root: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    from mlopsctl.workspace import git

    return git.completed(root, *args, input=input, env=env, timeout=timeout)


def who(root: Path) -> dict[str, Any]:
    """The person (or CI run) behind this process: ``{"name", "email"}`` from Git, plus
    ``{"actor", "run_url"}`` in GitHub Actions."""
    import re

    out: dict[str, Any] = {}
    # Git's own answer (config or GIT_AUTHOR_* variables), as a commit would record it.
    ident = _git(root, "var", "GIT_AUTHOR_IDENT").stdout.strip()
    m = re.match(r"^(?P<name>.*?)\s*<(?P<email>[^>]*)>", ident)
    if m and m["name"]:
        out["name"] = m["name"]
    if m and m["email"]:
        out["email"] = m["email"]
    env = os.environ
    if env.get("GITHUB_ACTIONS") == "true" or env.get("GITHUB_ACTOR"):
        if env.get("GITHUB_ACTOR"):
            out["actor"] = env["GITHUB_ACTOR"]
        if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL") or "https://github.com"
            out["run_url"] = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    if not out:
        out["name"] = env.get("USER") or "unknown"
    return out


def plan_digest(plan: Plan) -> str:
    """sha256 of the plan's canonical JSON, without the time it was computed at."""
    doc = plan.to_dict()
    doc.pop("created_at", None)
    return "sha256:" + hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _identity_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    if _git(root, "var", "GIT_COMMITTER_IDENT").returncode != 0:
        env.setdefault("GIT_COMMITTER_NAME", "mlopsctl")
        env.setdefault("GIT_COMMITTER_EMAIL", "mlopsctl@localhost")
        env.setdefault("GIT_AUTHOR_NAME", env["GIT_COMMITTER_NAME"])
        env.setdefault("GIT_AUTHOR_EMAIL", env["GIT_COMMITTER_EMAIL"])
    return env


def record(root: Path, entry: dict[str, Any]) -> str | None:
    """Append ``entry`` to the note of the commit it names (HEAD); None when recorded, else why
    not (no commit yet, or Git refused: then the local journal is all there is)."""
    commit = entry.get("commit")
    if not commit:
        return "the repository has no commit yet"
    line = json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)
    proc = _git(root, "notes", f"--ref={NOTES_REF}", "append", "--no-separator", "-F", "-", str(commit),
                input=line + "\n", env=_identity_env(root))
    if proc.returncode != 0:
        # Git before 2.42 has no --no-separator: a blank line between records is fine too.
        proc = _git(root, "notes", f"--ref={NOTES_REF}", "append", "-F", "-", str(commit), input=line + "\n",
                    env=_identity_env(root))
    return None if proc.returncode == 0 else (proc.stderr.strip() or "git notes failed")


def fetch(root: Path, remote: str = "origin") -> str | None:
    """Bring the remote's notes in (merged line by line with local ones); None when done, else why not."""
    if _git(root, "remote", "get-url", remote).returncode != 0:
        return f"no remote {remote!r}"
    tmp = "refs/notes/mlopsctl-fetched"
    proc = _git(root, "fetch", "-q", remote, f"+{NOTES_REF}:{tmp}", timeout=120)
    if proc.returncode != 0:
        text = proc.stderr.strip()
        return None if "couldn't find remote ref" in text else (text or "git fetch failed")
    if _git(root, "rev-parse", "-q", "--verify", NOTES_REF).returncode != 0:
        _git(root, "update-ref", NOTES_REF, tmp)
    else:
        merged = _git(root, "notes", f"--ref={NOTES_REF}", "merge", "-q", "-s", "cat_sort_uniq", tmp,
                      env=_identity_env(root))
        if merged.returncode != 0:
            return merged.stderr.strip() or "git notes merge failed"
    _git(root, "update-ref", "-d", tmp)
    return None


def history(root: Path) -> Iterator[dict[str, Any]]:
    """Every recorded apply, oldest first."""
    listing = _git(root, "notes", f"--ref={NOTES_REF}", "list")
    if listing.returncode != 0 or not listing.stdout.strip():
        return
    blobs = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
    batch = _git(root, "cat-file", "--batch", input="\n".join(blobs) + "\n")
    records: list[dict[str, Any]] = []
    for raw in batch.stdout.splitlines():
        raw = raw.strip()
        if not raw.startswith("{"):
            continue  # batch headers and separators
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("apply"):
            records.append(rec)
    # "time" is whole seconds; "ns" orders two applies of the same second (older records have none).
    yield from sorted(records, key=lambda r: (str(r.get("time") or ""), int(r.get("ns") or 0), str(r.get("apply"))))
