"""One exception hierarchy; the CLI's single handler maps it to messages and exit codes.

Every error a user can cause derives from :class:`MlopsError` and carries a message fit to
print as is. Errors about a place in a file carry :class:`Location` objects so the message
names ``file:line:column``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a file of the user's repository (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One finding about a spec: where, the key path, and what was expected."""

    location: Location
    message: str
    path: str = ""  # dotted key path inside the document, e.g. "estimator.params.n_estimators"
    hint: str | None = None  # e.g. "did you mean 'estimator'?"
    excerpt: str | None = None  # a few source lines with the offending one marked

    def format(self) -> str:
        head = f"{self.location}: "
        if self.path:
            head += f"{self.path}: "
        text = head + self.message
        if self.hint:
            text += f" ({self.hint})"
        if self.excerpt:
            text += "\n" + self.excerpt
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class MlopsError(Exception):
    """Base of all errors a user can cause; the message is printed as is, exit code 1."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SpecError(MlopsError):
    """One or more problems in the specs; all are reported in one run."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        body = "\n".join(p.format() for p in self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the specs:\n{body}")


class WriteError(MlopsError, OSError):
    """A write the file system refused (full disk, read-only, outside the repository), named with its path.

    Also an OSError, so callers that treat a failed cache write as harmless keep doing so.
    """

    def __init__(self, message: str, errno: int | None = None) -> None:
        MlopsError.__init__(self, message)
        self.errno = errno


class LockError(MlopsError):
    """Another apply holds the lock."""


class StalePlanError(MlopsError):
    """A saved plan no longer matches what it was computed from."""


class ApplyError(MlopsError):
    """A step of apply failed; what finished before it is recorded."""


class ConfirmationError(MlopsError):
    """Apply needs a confirmation that cannot be asked for (no TTY) or was refused."""


class UnavailableError(MlopsError):
    """A capability cannot work on this machine (no engine, no network): said, never faked."""
