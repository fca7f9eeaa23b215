"""A steady phase: while a plan is computed, mlopsctl itself writes nothing the plan reads.

Facts that are otherwise checked again by ``stat`` on every use (DVC's configuration, read eight
times per model) may then be read once and trusted until the phase ends: the plan is a snapshot
of one moment anyway, and the plan memo records what the first read saw. Outside a phase (while
apply writes), :func:`remembered` computes every time, so nothing stale can outlive a write.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

_depth = 0
_memos: dict[Hashable, Any] = {}


@contextmanager
def phase() -> Iterator[None]:
    """A steady phase (nests); its memos are dropped when the outermost one ends."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth:
            _memos.clear()


def active() -> bool:
    return _depth > 0


def remembered(key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` once per steady phase for ``key``; outside a phase, every time."""
    if not _depth:
        return make()
    try:
        value: T = _memos[key]
    except KeyError:
        value = _memos[key] = make()
    return value


def per_phase(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn`` called once per steady phase for each set of (hashable) arguments; outside a phase,
    every time."""

    @functools.wraps(fn)
    def once(*args: P.args, **kwargs: P.kwargs) -> T:
        # remembered(), inlined: some of these are asked thousands of times per plan
        if not _depth:
            return fn(*args, **kwargs)
        key = (fn, args, tuple(sorted(kwargs.items()))) if kwargs else (fn, args)
        try:
            value: T = _memos[key]
        except KeyError:
            value = _memos[key] = fn(*args, **kwargs)
        return value

    return once
