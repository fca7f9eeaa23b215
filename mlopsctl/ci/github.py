"""The few GitHub REST calls mlopsctl makes: one sticky plan comment per pull request and project.

Only the standard library (urllib): the comment job installs mlopsctl without its ML stack, and
a new HTTP dependency is not worth three endpoints. The comment is found again by the hidden
marker the Markdown renderer puts first, so re-running a check updates the comment instead of
adding another one, and two projects in one repository keep one comment each.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlopsctl.errors import MlopsError, UnavailableError

DEFAULT_API_URL = "https://api.github.com"
MAX_BODY = 65_536
"""GitHub refuses a comment body longer than this (characters)."""

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass
class GitHub:
    """A client for one repository, authenticated with a token (the workflow's GITHUB_TOKEN)."""

    repo: str
    token: str
    api_url: str = DEFAULT_API_URL
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not _REPO.match(self.repo):
            raise MlopsError(f"repository {self.repo!r} is not OWNER/NAME")
        self.api_url = self.api_url.rstrip("/")

    def list_issue_comments(self, number: int) -> Iterator[dict[str, Any]]:
        """Every comment of an issue or pull request, following the Link header's pages."""
        url: str | None = f"{self.api_url}/repos/{self.repo}/issues/{number}/comments?per_page=100"
        while url:
            data, headers = self._request("GET", url, what=f"the comments of pull request #{number}")
            if not isinstance(data, list):
                raise MlopsError(f"GitHub answered the comment list of #{number} with something that is not a list")
            yield from data
            match = _NEXT.search(headers.get("Link", "") or "")
            url = match.group(1) if match else None

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        url = f"{self.api_url}/repos/{self.repo}/issues/{number}/comments"
        data, _ = self._request("POST", url, {"body": body}, what=f"a comment on pull request #{number}")
        return dict(data)

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        url = f"{self.api_url}/repos/{self.repo}/issues/comments/{comment_id}"
        data, _ = self._request("PATCH", url, {"body": body}, what=f"comment {comment_id}")
        return dict(data)

    def _request(self, method: str, url: str, payload: dict[str, Any] | None = None, *, what: str) -> tuple[Any, Any]:
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(url, data=body, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", "mlopsctl")
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                headers = resp.headers
        except urllib.error.HTTPError as e:
            raise self._http_error(e, method, what) from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise UnavailableError(f"cannot reach the GitHub API at {self.api_url} ({reason}); nothing was posted") from None
        try:
            return (json.loads(raw) if raw else None), headers
        except ValueError:
            raise MlopsError(f"GitHub answered {method} {what} with something that is not JSON") from None

    def _http_error(self, e: urllib.error.HTTPError, method: str, what: str) -> MlopsError:
        detail = ""
        try:
            detail = str(json.loads(e.read() or b"{}").get("message") or "")
        except (ValueError, AttributeError, OSError):
            pass
        said = f" (GitHub said: {detail})" if detail else ""
        if e.code == 401:
            return MlopsError(f"GitHub rejected the token (401) while reading or writing {what}{said}: "
                              "set GITHUB_TOKEN to a valid token")
        if e.code == 403 and (e.headers.get("X-RateLimit-Remaining") == "0"):
            return MlopsError(f"GitHub's API rate limit is exhausted (403) for {what}; retry after it resets")
        if e.code == 403:
            return MlopsError(
                f"the token may not {'read' if method == 'GET' else 'write'} {what} (403){said}: the workflow job needs "
                "'permissions: pull-requests: write'; pull requests from forks only get a read-only token"
            )
        if e.code == 404:
            return MlopsError(f"GitHub found no {what} in {self.repo} (404){said}: check --repo and --pr, "
                              "and that the token can see the repository")
        return MlopsError(f"GitHub refused {method} {what} ({e.code}){said}")


def upsert_comment(gh: GitHub, number: int, body: str, marker: str) -> tuple[str, dict[str, Any]]:
    """Update the comment carrying ``marker`` on pull request ``number``, or create it.

    Returns ("updated" | "created" | "unchanged", the comment). Only the first marked comment is
    updated; an identical body is left alone so re-runs do not notify anyone.
    """
    if len(body) > MAX_BODY:
        raise MlopsError(
            f"the comment is {len(body)} characters; GitHub accepts at most {MAX_BODY}. "
            "Render it with 'mlopsctl plan --format markdown', which stays under the limit"
        )
    for comment in gh.list_issue_comments(number):
        if marker in (comment.get("body") or ""):
            if comment.get("body") == body:
                return "unchanged", comment
            return "updated", gh.update_comment(int(comment["id"]), body)
    return "created", gh.create_comment(number, body)


def pr_number_from_event(path: str | os.PathLike[str] | None = None) -> int | None:
    """The pull request number of the event that started the workflow (GITHUB_EVENT_PATH)."""
    path = path or os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise MlopsError(f"cannot read the workflow event file {path}") from None
    number = (event.get("pull_request") or {}).get("number") or (
        (event.get("issue") or {}).get("number") if (event.get("issue") or {}).get("pull_request") else None
    )
    return int(number) if number else None


def write_step_summary(markdown: str, path: str | os.PathLike[str] | None = None) -> bool:
    """Append ``markdown`` to the job summary when running in GitHub Actions; False elsewhere."""
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with open(target, "a", encoding="utf-8") as f:
        f.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return True
