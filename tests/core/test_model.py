from __future__ import annotations

import dataclasses

import pytest

from mlopsctl.core.model import Action, Change
from mlopsctl.errors import Location


def test_a_change_with_fields_replaced_is_what_dataclasses_replace_makes() -> None:
    change = Change("stage.iris.train", Action.UPDATE, before={"a": 1}, reasons=("r",), source=Location("m.yaml", 3))
    assert change.addr.kind == "stage"  # parsed, and kept on the instance
    for kw in ({"fingerprint": "f", "model": "iris"}, {"payload": {"x": 1}, "reasons": ()}, {}):
        got = change.with_(**kw)
        assert got == dataclasses.replace(change, **kw) and got is not change
        assert type(got) is Change and got.addr == change.addr
    moved = change.with_(address="file.dvc.yaml")
    assert moved.addr.kind == "file" and moved.name == "dvc.yaml" and change.addr.kind == "stage"
    assert change.fingerprint is None and change.reasons == ("r",)  # the original is untouched
    with pytest.raises(TypeError):
        change.with_(nope=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.with_(model="m").model = "n"  # type: ignore[misc]
