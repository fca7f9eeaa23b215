"""Annotated registry tags written through two long-lived git processes, one ref update per tag.

``git tag -a`` costs a process per tag, most of what registering a version costs once the tags
are read only once. A run that writes many tags hands each tag object to ``git hash-object -w
-t tag --stdin-paths`` and creates its ref in a ``git update-ref --stdin`` transaction of its
own, committed before :meth:`TagWriter.write` returns: each tag still exists whole or not at
all the moment its step finishes, as with ``git tag``. The objects are byte for byte what ``git
tag -a --cleanup=whitespace`` writes for the same tagger, date and message (a test compares
them), so GTO and every other Git client read them alike. Where Git would sign annotated tags
(``tag.gpgSign``, ``tag.forceSignAnnotated``) no writer is made: ``git tag`` signs them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import weakref
from pathlib import Path

from mlopsctl.errors import MlopsError
from mlopsctl.workspace import git

_TRUE = {"true", "yes", "on", "1"}


def signs_tags(root: Path, env: dict[str, str]) -> bool:
    """Whether ``git tag -a`` would sign a tag here (then only ``git tag`` writes it)."""
    proc = git.completed(root, "config", "--get-regexp", r"^tag\.(gpgsign|forcesignannotated)$", env=env)
    return any(line.split()[-1].lower() in _TRUE for line in proc.stdout.splitlines() if line.split())


def _close(procs: tuple[subprocess.Popen[bytes], ...], tmp: str) -> None:
    for proc in procs:
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()  # end of input: both programs exit (no transaction is left open)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - git stuck on a lock
            proc.kill()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    shutil.rmtree(tmp, ignore_errors=True)


class TagWriter:
    """Writes annotated tags in ``root`` as ``env``'s committer (see :func:`tagger_env`)."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = Path(root)
        ident = git.run(self.root, "var", "GIT_COMMITTER_IDENT", env=env).strip()
        self.tagger = ident.rsplit(" ", 2)[0]  # "Name <email>", without Git's "now"
        env = {**env, "GIT_FLUSH": "1"}  # answer each request at once
        self._objects = git.spawn(self.root, "hash-object", "-w", "-t", "tag", "--no-filters", "--stdin-paths",
                                  env=env)
        self._refs = git.spawn(self.root, "update-ref", "--stdin", env=env)
        self._tmp = tempfile.mkdtemp(prefix="mlopsctl-tags-")
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close, (self._objects, self._refs), self._tmp)
        self.broken = False
        self._count = 0

    def tag_object(self, name: str, commit: str, message: str, stamp: int) -> bytes:
        """The tag object ``git tag -a`` writes: ``commit`` must be a full object name of a commit."""
        return (f"object {commit}\ntype commit\ntag {name}\ntagger {self.tagger} {stamp} +0000\n\n"
                f"{message}").encode()

    def write(self, name: str, commit: str, message: str, stamp: int) -> str:
        """Create ``refs/tags/<name>`` (it must not exist) on a new tag object; its object name."""
        with self._lock:
            if self.broken:
                raise MlopsError("the tag writer stopped after an earlier failure")
            self._count += 1
            # A new file each time: rewriting one in place makes some file systems (ext4) flush it.
            path = Path(self._tmp) / str(self._count)
            path.write_bytes(self.tag_object(name, commit, message, stamp))
            [oid] = self._ask(self._objects, f"{path}\n", 1, "git hash-object")
            path.unlink()
            replies = self._ask(self._refs, f"start\ncreate refs/tags/{name} {oid}\nprepare\ncommit\n", 3,
                                f"git tag {name}")
            if replies != ["start: ok", "prepare: ok", "commit: ok"]:
                self._fail(f"git tag {name}", self._refs, "; ".join(replies))
            return oid

    def _ask(self, proc: subprocess.Popen[bytes], request: str, answers: int, what: str) -> list[str]:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(request.encode("utf-8"))
            proc.stdin.flush()
        except OSError:
            self._fail(what, proc, "")
        out = []
        for _ in range(answers):
            line = proc.stdout.readline()
            if not line:
                self._fail(what, proc, "")
            out.append(line.decode("utf-8", "replace").rstrip("\n"))
        return out

    def _fail(self, what: str, proc: subprocess.Popen[bytes], detail: str) -> None:
        self.broken = True
        try:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
            proc.wait(timeout=10)
            err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
        except (OSError, subprocess.TimeoutExpired):
            err = ""
        self.close()
        raise MlopsError(f"{what} failed in {self.root}: {err or detail or f'git exited {proc.returncode}'}")

    def close(self) -> None:
        self._finalizer()
