"""Kind ``registry``: which version each environment serves, from the spec's ``serve`` section.

``registry.<model>.<env>`` is desired to be ``serve.<env>.version`` (a number, or ``latest`` =
the newest registered version; every registered version passed its gates). The actual state
is the newest assignment tag (``<model>#<env>#<N>``, GTO's grammar). Promotion and rollback
are reviewed edits of that spec line; the plan shows them with the metric deltas between the
version served now and the proposed one. Removing an environment from ``serve`` unassigns it
with GTO's unassign tag (``<model>#<env>!#<N>``): history stays in Git, nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlopsctl.core.model import Action, Address, Change, Resource
from mlopsctl.errors import MlopsError
from mlopsctl.registry.fmt import fmt_number

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.registry.state import ModelRegistry, ModelVersion


def _ref(value: Any) -> int | str:
    """``serve.<env>.version`` as a number or "latest" (also accepts "3" and "v3")."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "latest").strip()
    if text.lower() == "latest":
        return "latest"
    digits = text[1:] if text[:1] in ("v", "V") else text
    return int(digits) if digits.isdigit() else text


def metric_deltas(old: ModelVersion, new: ModelVersion, order: Iterable[str] = ()) -> str:
    """"accuracy 0.93 -> 0.95, +0.02; f1_macro ..." for the metrics both versions have."""
    order = list(order)
    shared = [m for m in order if m in old.metrics and m in new.metrics]
    shared += sorted(m for m in new.metrics if m in old.metrics and m not in shared)
    parts = []
    for m in shared:
        a, b = old.metrics[m], new.metrics[m]
        parts.append(f"{m} {fmt_number(a)} -> {fmt_number(b)}, {'+' if b - a >= 0 else '-'}{fmt_number(abs(b - a))}")
    return "; ".join(parts)


def describe_move(env: str, current: ModelVersion | None, target: ModelVersion, order: Iterable[str]) -> str:
    from mlopsctl.registry.fmt import metrics_text

    if current is None:
        text = metrics_text(target.metrics, order)
        return f"{env}: assign v{target.version}" + (f" ({text})" if text else "")
    word = "rollback" if target.version < current.version else "promotion"
    deltas = metric_deltas(current, target, order)
    return f"{env}: {current.label} -> v{target.version} ({word}{'; ' + deltas if deltas else ''})"


def drift_reason(reg: ModelRegistry, env: str) -> str | None:
    """Registry drift: the newest event of ``env`` was written by a person (``gto assign`` or
    ``gto deprecate``), not by mlopsctl from the specs."""
    hand = reg.hand_events.get(env)
    if hand is None:
        return None
    how = "gto assign" if hand.action == "assign" else "gto deprecate"
    return (f"registry drift: {hand.tag.name} was written by hand ({how}), not from the specs; "
            f"apply restores what serve.{env}.version says")


class RegistryProvider:
    kind = "registry"
    reads_alone = False

    def expand(self, ctx: Context) -> Iterable[Resource]:
        for name, doc in sorted(ctx.project.models.items()):
            for env, entry in doc.model.serve.items():
                yield Resource(
                    kind=self.kind,
                    name=f"{name}.{env}",
                    desired={"version": entry.version},
                    # After the deployment: an assignment names what serves, so it moves only
                    # once the new version is up and healthy there.
                    depends_on=(f"model.{name}", f"deployment.{name}.{env}"),
                    source=doc.loc(f"serve.{env}.version"),
                    model=name,
                )

    def existing(self, ctx: Context) -> Iterable[str]:
        from mlopsctl.registry.api import state_for

        state = state_for(ctx)
        for model in state.assigned():
            for env in state.model(model).assignments:
                yield f"{self.kind}.{model}.{env}"

    def read(self, address: str, desired: Resource | None, ctx: Context) -> dict[str, Any] | None:
        from mlopsctl.registry.api import model_registry

        addr = Address.parse(address)
        model, env = addr.model, addr.part
        reg = model_registry(ctx, model)
        current = reg.assignments.get(env)
        return {
            "assigned": None if current is None else {"version": current.version, "tag": current.tag,
                                                      "commit": current.commit},
            # "latest" moves when a version is registered; a saved plan that resolved it is then stale.
            "latest": reg.latest.version if reg.latest else None,
        }

    def diff(self, address: str, desired: Resource | None, actual: dict[str, Any] | None, ctx: Context) -> Change:
        from mlopsctl.registry.api import model_registry

        change = self._diff(address, desired, ctx)
        if change.action is Action.NOOP or change.blocked:
            return change
        addr = Address.parse(address)
        drift = drift_reason(model_registry(ctx, addr.model), addr.part)
        return change.with_(reasons=(*change.reasons, drift)) if drift else change

    def _diff(self, address: str, desired: Resource | None, ctx: Context) -> Change:
        from mlopsctl.registry.api import model_registry, resolve_for

        addr = Address.parse(address)
        model, env = addr.model, addr.part
        reg = model_registry(ctx, model)
        current = reg.assignments.get(env)
        before = {"version": current.version if current.recorded else current.label} if current else None
        if desired is None:
            if current is None:
                return Change(address=address, action=Action.NOOP, model=model)
            why = "destroy" if ctx.destroy else f"the specs no longer serve {model} in {env}"
            return Change(
                address=address, action=Action.DELETE, before=before, after=None, model=model,
                reasons=(f"{env}: unassign {current.label} ({why}); the version stays registered",),
            )
        doc = ctx.project.models.get(model)
        order = list(doc.model.listed_metrics if doc else ())
        ref = _ref(desired.desired.get("version"))
        grow = Action.CREATE if current is None else Action.UPDATE
        problem = self._env_problem(ctx, model, env)
        if problem:
            return Change(address=address, action=grow, before=before, after={"version": ref},
                          reasons=(problem,), blocked=problem, model=model)
        pending = ctx.upstream.get(f"model.{model}")
        new_n = None
        if pending is not None and pending.action is Action.CREATE and not pending.blocked:
            new_n = (pending.after or {}).get("version")
        equals = (pending.after or {}).get("equals") if pending is not None else None
        if ref == "latest" and isinstance(equals, int) and reg.get(equals) is not None:
            target = reg.get(equals)
            assert target is not None
            if current is not None and current.tag == target.tag:
                return Change(address=address, action=Action.NOOP, before=before, after={"version": equals},
                              model=model)
            was = current.label if current else "nothing"
            return Change(address=address, action=grow, before=before, after={"version": equals}, model=model,
                          reasons=((f"{env}: {was} -> v{equals}: the new training equals v{equals}, so {env} "
                                   f"will serve v{equals}"),))
        if ref == "latest" and new_n is not None or isinstance(ref, int) and ref == new_n and reg.get(ref) is None:
            was = current.label if current else "nothing"
            return Change(
                address=address, action=grow, before=before, after={"version": new_n}, model=model,
                reasons=(f"{env}: {was} -> v{new_n}: will point to the new version once registered",),
            )
        target = resolve_for(ctx, model, ref) if isinstance(ref, (int, str)) else None
        if target is None and isinstance(ref, int) and ref in reg.deregistered:
            msg = (f"registry drift: v{ref} was deregistered by hand ({model}@v{ref}.0.0!, gto deprecate) and GTO "
                   f"cannot register a version twice: delete that tag (git tag -d '{model}@v{ref}.0.0!' and push the "
                   f"deletion) to restore v{ref}, or serve another version")
            return Change(address=address, action=grow, before=before, after={"version": ref}, reasons=(msg,),
                          blocked=msg, model=model)
        if target is None:
            if ref == "latest":
                return Change(address=address, action=Action.NOOP, before=before, after=before, model=model,
                              reasons=(f"no version of {model} is registered yet",))
            msg = self._unknown(model, env, ref, reg)
            return Change(address=address, action=grow, before=before, after={"version": ref},
                          reasons=(msg,), blocked=msg, model=model)
        after = {"version": target.version}
        if current is not None and current.tag == target.tag:
            if reg.deprecated is None:
                return Change(address=address, action=Action.NOOP, before=before, after=after, model=model)
            return Change(address=address, action=grow, before=before, after={**after, "reassign": True}, model=model,
                          reasons=((f"registry drift: {model} was deprecated by hand ({reg.deprecated.tag.name}, gto "
                                   f"deprecate) and GTO no longer lists it; apply assigns {env} v{target.version} "
                                   "again so it is listed and served"),))
        return Change(address=address, action=grow, before=before, after=after, model=model,
                      reasons=(describe_move(env, current, target, order),))

    def _env_problem(self, ctx: Context, model: str, env: str) -> str | None:
        from mlopsctl.registry.tags import is_valid_name

        envs = ctx.project.environments
        if env not in envs:
            return f"serve.{env}: there is no environment {env!r} in mlops.yaml (environments: {', '.join(envs) or 'none'})"
        if not is_valid_name(env) or not is_valid_name(model):
            return f"serve.{env}: {model}#{env} cannot be a registry tag (letters, digits, '-', '_'; start and end alphanumeric)"
        return None

    def _unknown(self, model: str, env: str, ref: int | str, reg: ModelRegistry) -> str:
        known = ", ".join(f"v{mv.version}" for mv in reg.versions) or "none yet"
        shown = f"v{ref}" if isinstance(ref, int) else repr(ref)
        return f"serve.{env}.version: {shown} of {model} is not a registered version (registered: {known})"

    def apply(self, change: Change, ctx: Context) -> dict[str, Any] | None:
        from mlopsctl.registry.api import model_registry, resolve_for, write_and_remember

        model, env = change.addr.model, change.addr.part
        reg = model_registry(ctx, model)  # with the version model.<name> may have just registered
        desired = change.payload.get("desired") or change.after or {}
        ref = _ref(desired.get("version"))
        where = f"{change.source}: " if change.source else ""
        problem = self._env_problem(ctx, model, env)
        if problem:
            raise MlopsError(where + problem)
        target = resolve_for(ctx, model, ref)
        if target is None:
            raise MlopsError(where + self._unknown(model, env, ref, reg) + ". Nothing was assigned.")
        current = reg.assignments.get(env)
        if current is not None and current.tag == target.tag and reg.deprecated is None:
            return {"version": target.version, "assigned": False}
        tag = f"{model}#{env}#{reg.next_counter}"
        payload = {"by": "mlopsctl", "model": model, "environment": env, "version": target.version}
        write_and_remember(ctx, tag, target.commit, payload, not_before=reg.newest_time)
        ctx.note(f"{model}: {env} now serves v{target.version} ({tag})")
        return {"version": target.version, "tag": tag, "previous": current.version if current else None}

    def delete(self, change: Change, ctx: Context) -> None:
        from mlopsctl.registry.api import model_registry, write_and_remember

        model, env = change.addr.model, change.addr.part
        reg = model_registry(ctx, model)
        # Unassign every version still assigned, not only the newest: otherwise an older
        # assignment would surface and the environment would still be served.
        counter, newest = reg.max_counter, reg.newest_time
        for mv in reg.active.get(env, []):
            counter += 1
            tag = f"{model}#{env}!#{counter}"
            payload = {"by": "mlopsctl", "model": model, "environment": env, "version": mv.version}
            newest = write_and_remember(ctx, tag, mv.commit, payload, not_before=newest).time
            ctx.note(f"{model}: {env} no longer serves {mv.label} ({tag})")
