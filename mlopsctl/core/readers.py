"""A second process reads resources of a large plan from the last one back, as the plan reads
from the first one on.

Reading the actual state is most of a plan's diffing: a thousand models' datasets, stages and
models are three thousand reads, each a few files. Terraform refreshes resources in parallel;
Python threads would share one interpreter lock, so when a plan has many reads to make and the
machine a second core, :func:`start` forks a worker once the plan has expanded the specs. The
worker reads the resources from the last one back and says each ``actual`` state it found, with
its fingerprint (:class:`~mlopsctl.workspace.forked.Channel`); the plan goes on from the first one,
takes a state the worker found instead of reading it itself, and says in a page of memory the two
share where it has got to, so the worker stops where they meet. The plan never waits for it:
whatever has not arrived, it reads itself. Diffs, and everything else, stay in the plan, in order.
Before the fork the plan makes what every read of a kind shares (the provider's ``before_reads``:
the registry's tags, what the facts helper has sent), so the two do not both make it.

Only reads a provider marks ``reads_alone`` go to the worker: a read that depends on nothing but
the workspace, the resource and caches of facts, and leaves nothing in the run that a later step
takes (a warning, a probe's answer). A state is sent only when its JSON gives back exactly the same
value (no tuple, no number as a key, no NaN), and a read that fails stops the worker: the plan
reads it again and says what is wrong itself. So the plan is the same plan, worker or not.

A plan the memo records (a developer's: :mod:`mlopsctl.core.planmemo`) has the worker record too:
what each of its reads looked at comes back with the state, the paths and probe answers
(:func:`mlopsctl.workspace.observe.hand_over`) and the specs, upstream changes and run memos
(:class:`mlopsctl.core.reuse.Reads`), and the plan notes them as its own before it takes the state;
a state that comes without them, or whose read said something or looked at an upstream change, is
read by the plan itself. A plan that may take most changes from a kept memo (only model specs were
edited), a plan of some resources only (``--target``, ``--exclude``) and a small one (under
:data:`MIN_READS` reads, or one core) read everything themselves.
``MLOPSCTL_READ_WORKER=off`` never starts one, ``on`` whatever the size (tests).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
from typing import TYPE_CHECKING, Any

from mlopsctl.core import reuse
from mlopsctl.core.model import fingerprint, split_address
from mlopsctl.core.provider import get_provider
from mlopsctl.workspace import forked, observe

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.core.model import Resource

ENV = "MLOPSCTL_READ_WORKER"
MIN_READS = 300
"""About a hundred models: below that, forking costs about what the worker would save."""
_BATCH = 16
"""States per line written."""
MISSING = object()
"""An ``actual`` state not read yet (:func:`mlopsctl.core.plan.diff_one` reads it)."""


class Worker:
    """A running read worker, seen from the plan."""

    def __init__(self, pid: int, channel: forked.Channel, progress: mmap.mmap, addresses: list[str],
                 tracked: bool = False, recorded: bool = False) -> None:
        self.pid = pid
        self.tracked = tracked
        """The plan is tracked (:mod:`mlopsctl.core.reuse`): a state is taken only with the specs,
        changes and run memos its read looked at."""
        self.recorded = recorded
        """The plan is recorded (:mod:`mlopsctl.workspace.observe`): a state is taken only with the
        paths and probe answers its read looked at."""
        self.channel = channel
        self.progress = progress
        self.addresses = addresses
        self.position = {a: i for i, a in enumerate(addresses)}
        self.reached = 0
        self.found: dict[int, tuple[Any, str, reuse.Reads | None]] = {}
        """Index in :attr:`addresses` -> the state the worker read, its fingerprint, and what the
        read looked at (a recorded plan's)."""

    def take(self, address: str) -> tuple[Any, str, reuse.Reads | None] | None:
        """The state of ``address``, its :func:`~mlopsctl.core.model.fingerprint` and what its read
        looked at (None unless recorded) if the worker has read it, else None (the plan reads it
        itself); the worker then stops before it."""
        index = self.position.get(address)
        if index is None:
            return None
        if index > self.reached:
            self.reached = index
            self.progress[:8] = index.to_bytes(8, "little")
        if index not in self.found:
            for batch in self.channel.received():
                for item in batch if isinstance(batch, list) else ():
                    if (isinstance(item, list) and len(item) == 6 and isinstance(item[0], int)
                            and 0 <= item[0] < len(self.addresses) and item[1] == self.addresses[item[0]]
                            and isinstance(item[3], str)):
                        self._found(item)
        return self.found.pop(index, None)

    def _found(self, item: list[Any]) -> None:
        index, _, actual, known, looked, part = item
        if (self.tracked and looked is None) or (self.recorded and part is None):
            return  # read without noting what it looked at: the plan reads it itself
        reads = None
        if self.tracked:
            try:
                reads = reuse.Reads.from_list(looked)
            except (TypeError, ValueError):
                return
        if self.recorded:
            observe.take_over(part)  # noted even if not taken: noting too much only costs a memo miss
        self.found[index] = (actual, known, reads)

    def finish(self) -> None:
        forked.reap(self.pid)
        self.channel.close()
        self.progress.close()


def taken(worker: Worker | None, address: str) -> tuple[Any, str | None, reuse.Reads | None]:
    """What :meth:`Worker.take` found for ``address``; :data:`MISSING` (and no fingerprint, no
    reads) when there is no worker or it has not read it: the plan reads it itself."""
    found = worker.take(address) if worker is not None else None
    return found if found is not None else (MISSING, None, None)


def _alone(address: str) -> bool:
    return bool(getattr(get_provider(split_address(address)[0]), "reads_alone", False))


def wanted(count: int) -> bool:
    how = os.environ.get(ENV, "").strip().lower()
    if how == "off" or not hasattr(os, "fork"):
        return False
    return how == "on" or (count >= MIN_READS and forked.cores() >= 2)


def start(ctx: Context, order: list[str], desired: dict[str, Resource]) -> Worker | None:
    """Fork a worker for the reads of these resources (in the plan's order) when it is worth it
    (see the module's docstring), else None."""
    addresses = [a for a in order if _alone(a)]
    if not addresses or not wanted(len(addresses)):
        return None  # nothing it could read (a destroy plan, files alone), or too little
    try:
        for kind in dict.fromkeys(split_address(a)[0] for a in addresses):
            get_provider(kind).before_reads(ctx)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the plan's own reads meet it again, and say what is wrong
        return None
    with observe.declared():  # what the worker reads comes back with each state it found
        try:
            progress = mmap.mmap(-1, 8)
            channel = forked.Channel()
        except (OSError, ValueError):
            return None
        pid = forked.fork(lambda: _work(ctx, addresses, desired, channel, progress), keep=(channel.fd,))
    if pid is None:
        channel.close()
        progress.close()
        return None
    return Worker(pid, channel, progress, addresses, tracked=reuse.active() is not None, recorded=observe.active())


def _work(ctx: Context, addresses: list[str], desired: dict[str, Resource], out: forked.Channel,
          progress: mmap.mmap) -> None:
    batch: list[list[Any]] = []
    tracker = reuse.active()
    said: list[str] = []
    ctx.log = said.append  # a read that says something is left to the plan, which says it in order
    observe.hand_over()  # what the plan noted before the fork is the plan's
    for index in range(len(addresses) - 1, -1, -1):
        if index <= int.from_bytes(progress[:8], "little"):
            break
        address = addresses[index]
        provider = get_provider(split_address(address)[0])
        resource = desired.get(address)
        said.clear()
        with tracker.computing(address, resource) if tracker is not None else contextlib.nullcontext() as looked:
            actual = provider.read(address, resource, ctx)  # one that fails ends the worker
        part = observe.hand_over()
        if said or (looked is not None and looked.upstream):
            continue  # it said something, or needed a change the plan computes: the plan reads it
        try:
            if json.loads(json.dumps(actual)) != actual:
                continue  # JSON would not give back this very value: the plan reads it itself
        except (TypeError, ValueError):
            continue
        batch.append([index, address, actual, fingerprint(actual), None if looked is None else looked.to_list(), part])
        if len(batch) >= _BATCH:
            out.send(batch)
            batch = []
    if batch:
        out.send(batch)
