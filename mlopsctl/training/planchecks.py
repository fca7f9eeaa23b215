"""The checks a plan runs on a training stage that would run anyway: the data contract and the
estimator's params, so bad data or a misspelt param is refused at plan time, at its file:line,
before anything trains.

Both checks exist in full in the trainer (pandas, scikit-learn). Importing those costs seconds,
more than a whole plan of 1,000 models, so the plan asks cheaper questions first and imports
only when they cannot answer: the contract through :mod:`~mlopsctl.training.csvcontract`
(pandas only when the data might break it, or is past its reader), the params through the
names :mod:`~mlopsctl.training.signatures` remembered for the installed scikit-learn
(scikit-learn only the first time a class is checked, or for classes outside scikit-learn).
Every message still comes from the full checks, so it reads the same either way.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError, SpecError
from mlopsctl.training.signatures import EstimatorTable, static_param_names

if TYPE_CHECKING:
    from mlopsctl.core.context import Context
    from mlopsctl.pipeline.stages import StageDef

PLAN_CHECK_MAX_BYTES = 50 * 1024 * 1024
"""Data files up to this size are checked against the contract at plan time (when the stage
would run anyway); bigger ones only at apply, before training."""

_VERDICT_RULES = 1
"""Bump when :mod:`~mlopsctl.training.csvcontract` changes what it accepts: remembered verdicts go."""
_CONTRACT_KEYS = ("features", "data", "task", "cv", "split", "fairness")


def plan_problems(ctx: Context, sdef: StageDef) -> str | None:
    """Every reason to refuse ``sdef``'s run at plan time, one per line; None when there is none."""
    problems = contract_problems(ctx, sdef.params)
    if not sdef.custom:
        problems += estimator_problems(ctx, sdef.model, sdef.params)
    return "\n".join(problems) or None


def contract_problems(ctx: Context, params: dict[str, Any]) -> list[str]:
    """The data contract, when the data file is here and small enough to check at plan time."""
    from mlopsctl.training.csvcontract import FAST_MAX_BYTES, clean

    full = ctx.root / str((params.get("data") or {}).get("path") or "")
    try:
        st = os.stat(full)
    except OSError:
        return []  # not pulled yet (or absent: validate says so): checked before training
    if not stat.S_ISREG(st.st_mode) or st.st_size > PLAN_CHECK_MAX_BYTES:
        return []
    if st.st_size <= FAST_MAX_BYTES and ctx.digests.memo(full, _verdict_name(params), lambda p: clean(p, params),
                                                         st=st):
        return []
    from mlopsctl.training.contract import check_file

    try:
        check_file(ctx.root, params)
    except MlopsError as e:  # a ContractError, or a file that is not a readable CSV
        return [e.message]
    return []


def _verdict_name(params: dict[str, Any]) -> str:
    """The digest cache's name for "this file satisfies this contract" (the file's stat is the rest of the key)."""
    contract = json.dumps({k: params.get(k) for k in _CONTRACT_KEYS}, sort_keys=True, default=str)
    return f"contract-v{_VERDICT_RULES}:{hashlib.sha256(contract.encode()).hexdigest()[:16]}"


def estimator_problems(ctx: Context, model: str, params: dict[str, Any]) -> list[str]:
    """The estimator class and its params, from the remembered names when they are known."""
    from mlopsctl.training.estimators import unknown_params

    doc = ctx.project.models.get(model)
    spec_path = doc.path if doc else ""
    est = params.get("estimator") or {}
    dotted, given = str(est.get("class") or ""), est.get("params") or {}
    table = ctx.memo(EstimatorTable, lambda: EstimatorTable(ctx.root))
    known = table.params_of(dotted)
    if known is None and table.installed is not None:
        known = static_param_names(dotted)  # read from scikit-learn's source: nothing imported
        table.record(dotted, known)
    if known is not None:
        error = unknown_params(dotted, given, known, doc=doc, spec_path=spec_path)
        return [error.message] if error else []
    from mlopsctl.training.estimators import import_class, make_estimator, param_names

    try:
        cls = import_class(ctx.root, dotted, doc, spec_path)
    except SpecError as e:
        return [e.message]
    table.record(dotted, param_names(cls))
    # scikit-learn is imported now: the other specs' classes from the same modules cost nothing.
    table.record_loaded(str((d.data.get("estimator") or {}).get("class") or "") for d in ctx.project.models.values())
    try:
        make_estimator(ctx.root, dotted, given, doc=doc, spec_path=spec_path)
    except SpecError as e:
        return [e.message]
    return []
