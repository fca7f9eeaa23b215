"""The registry's Git tags in GTO's grammar: read them all in one subprocess, write one at a time.

Grammar (as GTO parses it, so ``gto show`` reads the same registry):

- ``<model>@v<semver>``        register a version (``<model>@v<semver>!`` deregisters it)
- ``<model>#<stage>#<N>``      assign a stage (an environment) to the version on the tag's commit
  (``<model>#<stage>!#<N>`` unassigns it); ``N`` counts per model over all of its tags
- ``<model>@deprecated``       deprecate the model

GTO ignores lightweight tags, so every tag written here is annotated. GTO orders events by the
tagger date, which has one-second resolution: a tag written within the same second as the
previous tag of that model would tie, and "the newest assignment wins" would become a coin
toss. So each new tag is dated one second after the model's newest tag when the clock has not
moved on yet.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.registry.tagwriter import TagWriter

# GTO's constants.py, restricted to what a model name may be here (no "dir:" prefixes).
_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>[0-9a-zA-Z.-]+))?(?:\+(?P<buildmetadata>[0-9a-zA-Z.-]+))?"
)
_TAG_RE = re.compile(
    rf"^(?P<artifact>(?:[a-zA-Z0-9-_./]+=)?{_NAME})"
    rf"(((#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?))|@((?P<deprecated>deprecated)|(?P<created>created)))"
    r"(#(?P<counter>[0-9]+))?$"
)
_NAME_RE = re.compile(rf"^{_NAME}$")

_SEP_FIELD = "\x1f"
_SEP_RECORD = "\x1e"
# for-each-ref interpolates %xx as the byte 0xXX: unit and record separators never occur in a
# tag name or a JSON message.
_FORMAT = "%(refname:strip=2)%1f%(objecttype)%1f%(objectname)%1f%(*objectname)%1f%(taggerdate:unix)%1f%(contents)%1e"


@dataclass(frozen=True)
class TagRecord:
    """One tag as Git stores it."""

    name: str
    commit: str
    """The commit the tag points to (peeled)."""
    annotated: bool
    time: int
    """Tagger date, Unix seconds (0 for lightweight tags)."""
    message: str


@dataclass(frozen=True)
class Event:
    """One tag parsed in GTO's grammar."""

    model: str
    action: str
    """register | deregister | assign | unassign | deprecate | create"""
    tag: TagRecord
    version: str | None = None
    """Semver with the leading "v", e.g. ``v3.0.0``."""
    stage: str | None = None
    counter: int | None = None

    @property
    def major(self) -> int | None:
        m = re.match(r"^v(\d+)\.", self.version or "")
        return int(m.group(1)) if m else None

    @property
    def is_plain_major(self) -> bool:
        """``vN.0.0`` exactly: the versions mlopsctl writes and reads as ``N``."""
        return bool(self.version and re.fullmatch(r"v[1-9]\d*\.0\.0", self.version))

    @property
    def payload(self) -> dict[str, Any] | None:
        return parse_message(self.tag.message)


def is_valid_name(name: str) -> bool:
    """Whether GTO accepts ``name`` as an artifact or stage name."""
    return bool(_NAME_RE.match(name))


def parse_name(name: str) -> dict[str, Any] | None:
    """GTO's reading of a tag name, or None when it is not a registry tag."""
    m = _TAG_RE.match(name)
    if not m:
        return None
    out: dict[str, Any] = {"model": m["artifact"].replace("=", ":")}
    if m["deprecated"]:
        out["action"] = "deprecate"
    elif m["created"]:
        out["action"] = "create"
    elif m["version"]:
        out["version"] = m["version"]
        out["action"] = "deregister" if m["cancel"] == "!" else "register"
    elif m["stage"]:
        out["stage"] = m["stage"]
        out["action"] = "unassign" if m["cancel"] == "!" else "assign"
    out["counter"] = int(m["counter"]) if m["counter"] else None
    return out


def parse_message(message: str) -> dict[str, Any] | None:
    """The JSON document in a tag message (a trailing signature is ignored), or None."""
    text = message.split("-----BEGIN ", 1)[0].strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _git(root: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> str:
    from mlopsctl.workspace import git

    return git.run(root, *args, env=env, input=input)


def read_tags(root: Path) -> list[TagRecord]:
    """Every tag of the repository, in one ``git for-each-ref``."""
    from mlopsctl.workspace import git

    rc, out, err = git.read_tags(root, "for-each-ref", f"--format={_FORMAT}", "refs/tags")
    if rc != 0:
        raise MlopsError(f"git for-each-ref failed in {root}: {err.strip() or out.strip()}")
    records: list[TagRecord] = []
    for raw in out.split(_SEP_RECORD):
        raw = raw.lstrip("\n")
        if not raw:
            continue
        fields = raw.split(_SEP_FIELD)
        if len(fields) < 6:
            continue
        name, otype, obj, peeled, tagger_time, message = fields[:6]
        annotated = otype == "tag"
        records.append(
            TagRecord(
                name=name,
                commit=peeled if annotated and peeled else obj,
                annotated=annotated,
                time=int(tagger_time) if tagger_time.strip().isdigit() else 0,
                message=message,
            )
        )
    return records


def events(records: list[TagRecord]) -> list[Event]:
    """Registry events in GTO's order: by tagger date (ties by counter, then name)."""
    out: list[Event] = []
    for rec in records:
        if not rec.annotated:
            continue  # GTO skips lightweight tags; so do we
        parsed = parse_name(rec.name)
        if parsed is None:
            continue
        out.append(
            Event(
                model=parsed["model"],
                action=parsed["action"],
                tag=rec,
                version=parsed.get("version"),
                stage=parsed.get("stage"),
                counter=parsed.get("counter"),
            )
        )
    out.sort(key=event_order)
    return out


def event_order(event: Event) -> tuple[int, int, str]:
    """GTO's order of events: by tagger date, ties by counter, then name."""
    return (event.tag.time, event.counter or 0, event.tag.name)


def head_commit(root: Path) -> str:
    """The commit HEAD points to; a clear error in a repository without commits."""
    from mlopsctl.workspace import git

    head = git.head_commit(root)
    if head is None:
        raise MlopsError(
            f"{root} has no commit yet: commit the specs first (a model version is a tag on the commit it was trained from)"
        )
    return head


def tagger_env(root: Path) -> dict[str, str]:
    """The environment ``git tag`` runs with: Git's identity, or mlopsctl's where there is none.

    Ask once per run and pass it to :func:`write_tag`: it costs a ``git var`` process.
    """
    env = dict(os.environ)
    from mlopsctl.workspace import git

    if git.output(root, "var", "GIT_COMMITTER_IDENT") is None:
        # A bare CI runner has no identity; a tag still needs a tagger.
        env.setdefault("GIT_COMMITTER_NAME", "mlopsctl")
        env["GIT_COMMITTER_EMAIL"] = env.get("GIT_COMMITTER_EMAIL") or "mlopsctl@localhost"
    return env


def tag_message(payload: dict[str, Any]) -> str:
    """A tag's message: its payload as one line of compact JSON (unchanged by ``--cleanup=whitespace``)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str) + "\n"


def write_tag(root: Path, name: str, commit: str, payload: dict[str, Any], *, not_before: int = 0,
              env: dict[str, str] | None = None, writer: TagWriter | None = None) -> TagRecord:
    """Create the annotated tag ``name`` on ``commit`` with ``payload`` as its JSON message.

    ``not_before``: the newest tag time of this model; the new tag is dated strictly after it.
    ``env``: from :func:`tagger_env` (asked here when not given). ``writer``: the run's batch
    writer (the same tag object, without a ``git tag`` process per tag).
    Creating a ref is atomic in Git, so a tag either exists whole or not at all. The record
    returned is what :func:`read_tags` reads back for it when ``commit`` is a full object name.
    """
    if parse_name(name) is None:
        raise MlopsError(f"{name!r} is not a valid registry tag name (GTO's grammar)")
    stamp = max(int(time.time()), not_before + 1)
    message = tag_message(payload)
    if writer is not None:
        writer.write(name, commit, message, stamp)
    else:
        env = dict(env) if env is not None else tagger_env(root)
        env["GIT_COMMITTER_DATE"] = f"{stamp} +0000"
        _git(root, "tag", "-a", "--cleanup=whitespace", "-F", "-", name, commit, env=env, input=message)
    return TagRecord(name=name, commit=commit, annotated=True, time=stamp, message=message)
