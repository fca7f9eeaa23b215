"""The resource graph in Graphviz DOT (``mlopsctl graph | dot -Tsvg > graph.svg``).

Edges point from a dependency to what needs it, so the picture reads like the pipeline: data ->
train -> candidate -> registry -> image -> deployment. Each model's resources sit in their own
cluster; project-wide resources (files, datasets) sit outside. Output order is sorted, so the
same graph always gives the same text and diffs of it are meaningful.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from mlopsctl.core.model import Address

# Kinds whose name starts with the model name (stage.<model>.train, registry.<model>.<env>, ...).
_MODEL_KINDS = frozenset({"stage", "model", "registry", "image", "deployment"})

_FILL = {
    "create": "#c8f0c8",
    "update": "#fff1a8",
    "replace": "#ffc89a",
    "delete": "#f6b0b0",
    "no-op": "#ffffff",
}


def render_dot(
    nodes: Iterable[tuple[str, Sequence[str], str | None]], owners: Mapping[str, str | None] | None = None
) -> str:
    """DOT for ``(address, depends_on, action or None)`` triples; action colours the node.

    ``owners`` maps an address to the model it belongs to (a model's Dockerfile, its params file),
    for what the address alone does not tell; the address decides otherwise."""
    by_address: dict[str, tuple[tuple[str, ...], str | None]] = {}
    for address, depends_on, action in nodes:
        by_address[address] = (tuple(depends_on), _action_value(action))

    clusters: dict[str, list[str]] = {}
    loose: list[str] = []
    for address in sorted(by_address):
        model = (owners or {}).get(address) or model_of(address)
        if model is None:
            loose.append(address)
        else:
            clusters.setdefault(model, []).append(address)

    out = [
        "digraph mlopsctl {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
        '  edge [color="#666666"];',
    ]
    for address in loose:
        out.append("  " + _node(address, by_address[address][1]))
    for model in sorted(clusters):
        out.append(f"  subgraph {_quote('cluster_' + model)} {{")
        out.append(f"    label={_quote('model ' + model)};")
        out.append('    style="rounded,dashed";')
        for address in clusters[model]:
            out.append("    " + _node(address, by_address[address][1]))
        out.append("  }")
    edges = sorted({(dep, address) for address, (deps, _) in by_address.items() for dep in deps})
    for dep, address in edges:
        out.append(f"  {_quote(dep)} -> {_quote(address)};")
    out.append("}")
    return "\n".join(out) + "\n"


def model_of(address: str) -> str | None:
    """The model a resource belongs to, read from its address (None for project-wide ones)."""
    addr = Address.parse(address)
    return addr.model if addr.kind in _MODEL_KINDS and addr.name else None


def _action_value(action: object) -> str | None:
    if action is None:
        return None
    value = getattr(action, "value", action)
    return str(value)


def _node(address: str, action: str | None) -> str:
    attrs = []
    if action is not None and action in _FILL:
        attrs.append(f"fillcolor={_quote(_FILL[action])}")
        if action != "no-op":
            attrs.append(f"tooltip={_quote(action)}")
    if action == "delete":
        attrs.append('fontcolor="#7a0000"')
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    return f"{_quote(address)}{suffix};"


def _quote(text: str) -> str:
    """A DOT double-quoted ID; addresses carry dots and slashes, so always quoted."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
