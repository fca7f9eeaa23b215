from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notes import NoteProvider

from mlopsctl.providers import base


@pytest.fixture
def notes_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, dict[str, Any]]], NoteProvider]]:
    """Make 'note' the only provider kind, with the given desired notes."""

    def install(notes: dict[str, dict[str, Any]]) -> NoteProvider:
        provider = NoteProvider(notes)
        monkeypatch.setattr(base, "PROVIDERS", {"note": "notes:NoteProvider"})
        monkeypatch.setattr(base, "_instances", {"note": provider})
        return provider

    yield install
