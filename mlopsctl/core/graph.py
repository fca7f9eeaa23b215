"""The resource graph: dependency order, target selection and cycle detection."""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Iterable, Mapping

from mlopsctl.core.model import Resource, split_address
from mlopsctl.errors import MlopsError


def kind_rank(address: str) -> int:
    """Position of the address's kind in the provider registry: the natural pipeline order."""
    from mlopsctl.core.provider import PROVIDERS

    kind = split_address(address)[0]
    for rank, known in enumerate(PROVIDERS):
        if known == kind:
            return rank
    return len(PROVIDERS)


def check_dependencies(resources: Mapping[str, Resource]) -> None:
    for r in resources.values():
        for dep in r.depends_on:
            if dep not in resources:
                where = f" ({r.source})" if r.source else ""
                raise MlopsError(f"{r.address}{where} depends on {dep}, which no spec produces")


def topo_order(resources: Mapping[str, Resource]) -> list[str]:
    """Dependencies first; ties broken by kind order then address, so plans are stable."""
    check_dependencies(resources)
    indegree = {a: 0 for a in resources}
    dependents: dict[str, list[str]] = {a: [] for a in resources}
    for r in resources.values():
        for dep in set(r.depends_on):
            indegree[r.address] += 1
            dependents[dep].append(r.address)
    heap = [(kind_rank(a), a) for a, n in indegree.items() if n == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        _, a = heapq.heappop(heap)
        order.append(a)
        for d in dependents[a]:
            indegree[d] -= 1
            if indegree[d] == 0:
                heapq.heappush(heap, (kind_rank(d), d))
    if len(order) != len(resources):
        stuck = sorted(a for a, n in indegree.items() if n > 0)
        raise MlopsError("dependency cycle among: " + ", ".join(stuck))
    return order


def delete_order(addresses: Iterable[str]) -> list[str]:
    """Resources no longer desired have no recorded edges: remove dependents' kinds first."""
    return sorted(addresses, key=lambda a: (-kind_rank(a), a))


def matches(address: str, pattern: str) -> bool:
    """An address matches itself, a prefix ending at '.' or '/', or a glob pattern."""
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(address, pattern)
    return address == pattern or address.startswith((pattern + ".", pattern.rstrip("/") + "/"))


def select(
    order: list[str],
    deps: Mapping[str, tuple[str, ...]],
    targets: Iterable[str] = (),
    excludes: Iterable[str] = (),
) -> list[str]:
    """Apply --target (with everything the targets depend on) and --exclude (with dependents)."""
    targets, excludes = list(targets), list(excludes)
    for pattern in targets + excludes:
        if not any(matches(a, pattern) for a in order):
            import difflib

            close = difflib.get_close_matches(pattern, order, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise MlopsError(f"no resource matches {pattern!r}{hint} (see `mlopsctl graph` for addresses)")
    chosen = set(order)
    if targets:
        chosen = set()
        stack = [a for a in order if any(matches(a, t) for t in targets)]
        while stack:
            a = stack.pop()
            if a not in chosen:
                chosen.add(a)
                stack.extend(deps.get(a, ()))
    if excludes:
        dropped = {a for a in order if any(matches(a, x) for x in excludes)}
        changed = True
        while changed:  # a dependent of an excluded resource cannot be applied safely
            changed = False
            for a in order:
                if a not in dropped and any(d in dropped for d in deps.get(a, ())):
                    dropped.add(a)
                    changed = True
        chosen -= dropped
    return [a for a in order if a in chosen]
