from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mlopsctl.core import provider as base
from tests.core.notes import NoteProvider


@pytest.fixture
def notes_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, dict[str, Any]]], NoteProvider]]:
    """Make 'note' the only provider kind, with the given desired notes."""

    def install(notes: dict[str, dict[str, Any]]) -> NoteProvider:
        provider = NoteProvider(notes)
        monkeypatch.setattr(base, "PROVIDERS", {"note": "notes:NoteProvider"})
        monkeypatch.setattr(base, "_instances", {"note": provider})
        return provider

    yield install
