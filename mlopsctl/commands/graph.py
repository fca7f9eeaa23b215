from __future__ import annotations

import click

from mlopsctl.commands._common import examples
from mlopsctl.commands._planning import emit


@click.command(epilog=examples(
    "mlopsctl graph | dot -Tsvg > graph.svg  # draw it with Graphviz",
    "mlopsctl graph --plan | dot -Tpng > plan.png  # coloured by what the plan would do",
))
@click.option("--plan", "with_plan", is_flag=True, help="Colour nodes by what the current plan would do.")
def graph(with_plan: bool) -> None:
    """Print the resource graph in DOT (pipe it to `dot -Tsvg`)."""
    from mlopsctl.commands._common import load_project, make_context
    from mlopsctl.commands._planning import flush_caches
    from mlopsctl.core.graph import topo_order
    from mlopsctl.core.plan import compute_plan, expand
    from mlopsctl.render.dot import render_dot

    ctx = make_context(load_project())
    desired = expand(ctx)
    actions: dict[str, str] = {}
    if with_plan:
        actions = {c.address: c.action.value for c in compute_plan(ctx).changes}
        flush_caches(ctx)
    nodes = [(a, desired[a].depends_on, actions.get(a)) for a in topo_order(desired)]
    emit(render_dot(nodes, owners={a: r.model for a, r in desired.items()}))
