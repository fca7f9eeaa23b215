"""``mlopsctl comment`` against a local server that answers the GitHub REST endpoints it uses.

GitHub itself cannot be reached here; the server below keeps comments in memory and speaks the
same paths, pagination (Link headers), auth and error shapes, so the command's real HTTP code
runs end to end.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.model import Action, Change, Plan
from mlopsctl.render.markdown import marker, render_markdown

TOKEN = "test-token"
PAGE = 30  # the server's page size, small so pagination is exercised


@dataclass
class FakeGitHub:
    """In-memory issue comments keyed by (owner/repo, number), and a log of requests."""

    comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    forbidden_repos: set[str] = field(default_factory=set)
    next_id: int = 1000
    url: str = ""

    def add(self, repo: str, number: int, body: str) -> dict[str, Any]:
        self.next_id += 1
        c = {"id": self.next_id, "body": body, "html_url": f"https://github.test/{repo}/pull/{number}#c{self.next_id}"}
        self.comments.setdefault((repo, number), []).append(c)
        return c

    def bodies(self, repo: str, number: int) -> list[str]:
        return [c["body"] for c in self.comments.get((repo, number), [])]


def _handler(gh: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    list_re = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
    edit_re = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")

        def _auth(self, repo: str) -> bool:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials"})
                return False
            if repo in gh.forbidden_repos:
                self._send(403, {"message": "Resource not accessible by integration"})
                return False
            if repo.startswith("nobody/"):
                self._send(404, {"message": "Not Found"})
                return False
            return True

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            gh.requests.append(("GET", self.path))
            m = list_re.match(path)
            if not m:
                return self._send(404, {"message": "Not Found"})
            repo, number = m.group(1), int(m.group(2))
            if not self._auth(repo):
                return None
            page = int(dict(p.split("=") for p in query.split("&") if "=" in p).get("page", "1"))
            items = gh.comments.get((repo, number), [])
            chunk = items[(page - 1) * PAGE : page * PAGE]
            headers = {}
            if page * PAGE < len(items):
                headers["Link"] = f'<{gh.url}{path}?per_page={PAGE}&page={page + 1}>; rel="next"'
            return self._send(200, chunk, headers)

        def do_POST(self) -> None:
            gh.requests.append(("POST", self.path))
            m = list_re.match(self.path)
            if not m:
                return self._send(404, {"message": "Not Found"})
            repo, number = m.group(1), int(m.group(2))
            if not self._auth(repo):
                return None
            body = self._body()["body"]
            if len(body) > 65_536:
                return self._send(422, {"message": "Validation Failed"})
            return self._send(201, gh.add(repo, number, body))

        def do_PATCH(self) -> None:
            gh.requests.append(("PATCH", self.path))
            m = edit_re.match(self.path)
            if not m:
                return self._send(404, {"message": "Not Found"})
            repo, cid = m.group(1), int(m.group(2))
            if not self._auth(repo):
                return None
            for (r, _), items in gh.comments.items():
                for c in items:
                    if r == repo and c["id"] == cid:
                        c["body"] = self._body()["body"]
                        return self._send(200, c)
            return self._send(404, {"message": "Not Found"})

    return Handler


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    gh = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gh))
    gh.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield gh
    server.shutdown()
    server.server_close()


@pytest.fixture
def comment_env(github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment a GitHub Actions step sees on a pull_request event for PR #7."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 7}}))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/ml")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def invoke(*args: str) -> Any:
    """``mlopsctl ARGS`` in-process through the real edge error handler."""
    import click
    from click.testing import CliRunner

    from mlopsctl.cli import cli as group
    from mlopsctl.commands._errors import run

    class Edge(click.Command):
        def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **_: Any) -> Any:  # type: ignore[override]
            return run(group, list(args or ()))

    return CliRunner().invoke(Edge("mlopsctl"), list(args), catch_exceptions=False)


def plan_md(path: Path, project: str, n_estimators: int) -> Path:
    plan = Plan(
        changes=(Change("stage.iris.train", Action.UPDATE, model="iris",
                        reasons=(f"estimator.params.n_estimators 100 -> {n_estimators}",)),),
        pins={}, project=project, mlopsctl_version="0.1.0",
    )
    path.write_text(render_markdown(plan), encoding="utf-8")
    return path


def test_creates_then_updates_exactly_one_comment(github: FakeGitHub, comment_env: Path) -> None:
    # Enough other comments that ours lands on a later page.
    for i in range(2 * PAGE + 3):
        github.add("octo/ml", 7, f"review comment {i}")
    first = plan_md(comment_env / "plan1.md", "demo", 200)
    result = invoke("comment", "--file", str(first))
    assert result.exit_code == 0, result.output
    assert "Created the plan comment" in result.stderr
    ours = [b for b in github.bodies("octo/ml", 7) if b.startswith(marker("demo"))]
    assert ours == [first.read_text()]

    second = plan_md(comment_env / "plan2.md", "demo", 300)
    github.add("octo/ml", 7, "a later review comment")
    result = invoke("comment", "--file", str(second))
    assert result.exit_code == 0, result.output
    assert "Updated the plan comment" in result.stderr
    ours = [b for b in github.bodies("octo/ml", 7) if marker("demo") in b]
    assert ours == [second.read_text()]
    assert "100 -> 300" in ours[0]
    assert len(github.bodies("octo/ml", 7)) == 2 * PAGE + 3 + 1 + 1
    assert [m for m, _ in github.requests].count("POST") == 1
    assert [m for m, _ in github.requests].count("PATCH") == 1


def test_same_plan_again_changes_nothing(github: FakeGitHub, comment_env: Path) -> None:
    md = plan_md(comment_env / "plan.md", "demo", 200)
    assert invoke("comment", "--file", str(md)).exit_code == 0
    result = invoke("comment", "--file", str(md))
    assert result.exit_code == 0 and "Unchanged" in result.stderr
    assert [m for m, _ in github.requests].count("PATCH") == 0


def test_two_projects_keep_two_comments(github: FakeGitHub, comment_env: Path) -> None:
    assert invoke("comment", "--file", str(plan_md(comment_env / "a.md", "alpha", 1))).exit_code == 0
    assert invoke("comment", "--file", str(plan_md(comment_env / "b.md", "beta", 2))).exit_code == 0
    assert invoke("comment", "--file", str(plan_md(comment_env / "a2.md", "alpha", 3))).exit_code == 0
    bodies = github.bodies("octo/ml", 7)
    assert len(bodies) == 2
    assert "100 -> 3" in bodies[0] and "100 -> 2" in bodies[1]


def test_explicit_options_override_the_environment(github: FakeGitHub, comment_env: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GITHUB_REPOSITORY", "GITHUB_EVENT_PATH", "GITHUB_API_URL"):
        monkeypatch.delenv(var)
    md = plan_md(comment_env / "plan.md", "demo", 5)
    result = invoke("comment", "--file", str(md), "--repo", "other/repo", "--pr", "12", "--api-url", github.url)
    assert result.exit_code == 0, result.output
    assert github.bodies("other/repo", 12) == [md.read_text()]


def test_step_summary_is_appended(github: FakeGitHub, comment_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = comment_env / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    md = plan_md(comment_env / "plan.md", "demo", 5)
    assert invoke("comment", "--file", str(md)).exit_code == 0
    assert summary.read_text() == "earlier step\n" + md.read_text()
    assert invoke("comment", "--file", str(md), "--no-step-summary").exit_code == 0
    assert summary.read_text() == "earlier step\n" + md.read_text()


def test_markdown_without_marker_still_sticks(github: FakeGitHub, comment_env: Path) -> None:
    md = comment_env / "free.md"
    md.write_text("hello\n")
    assert invoke("comment", "--file", str(md)).exit_code == 0
    md.write_text("hello again\n")
    assert invoke("comment", "--file", str(md)).exit_code == 0
    assert github.bodies("octo/ml", 7) == ["<!-- mlopsctl-plan -->\nhello again\n"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("bad-token", "rejected the token (401)"),
        ("forbidden", "pull-requests: write"),
        ("unknown-repo", "(404)"),
        ("no-server", "cannot reach the GitHub API"),
        ("no-pr", "no pull request"),
        ("no-token", "no token"),
        ("missing-file", "does not exist"),
    ],
)
def test_errors_are_clear_and_without_traceback(
    github: FakeGitHub, comment_env: Path, monkeypatch: pytest.MonkeyPatch, setup: str, expected: str
) -> None:
    md = plan_md(comment_env / "plan.md", "demo", 5)
    args = ["comment", "--file", str(md)]
    if setup == "bad-token":
        monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    elif setup == "forbidden":
        github.forbidden_repos.add("octo/ml")
    elif setup == "unknown-repo":
        args += ["--repo", "nobody/nothing"]
    elif setup == "no-server":
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        args += ["--api-url", f"http://127.0.0.1:{port}"]
    elif setup == "no-pr":
        monkeypatch.delenv("GITHUB_EVENT_PATH")
    elif setup == "no-token":
        monkeypatch.delenv("GITHUB_TOKEN")
        monkeypatch.delenv("GH_TOKEN", raising=False)
    elif setup == "missing-file":
        args[2] = str(comment_env / "nope.md")
    result = invoke(*args)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def test_errors_exit_1_with_message_in_a_subprocess(github: FakeGitHub, comment_env: Path) -> None:
    """Through the real console entry point: one line on stderr, exit 1, no traceback."""
    md = plan_md(comment_env / "plan.md", "demo", 5)
    github.forbidden_repos.add("octo/ml")
    proc = subprocess.run([sys.executable, "-m", "mlopsctl", "comment", "--file", str(md)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "Error:" in proc.stderr and "pull-requests: write" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_comment_imports_only_the_standard_library_and_click(github: FakeGitHub, comment_env: Path) -> None:
    """The comment job installs mlopsctl with --no-deps plus click: nothing else may be imported."""
    md = plan_md(comment_env / "plan.md", "demo", 5)
    code = (
        "import sys\n"
        "from mlopsctl.cli import main\n"
        "try:\n"
        f"    main(['comment', '--file', {str(md)!r}])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "third = sorted({m.split('.')[0] for m in sys.modules} & {'ruamel', 'jinja2', 'jsonschema', 'rich', 'dvc',"
        " 'docker', 'sklearn', 'git', 'yaml', 'numpy', 'pandas', 'requests'})\n"
        "print(','.join(third))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
    assert len(github.bodies("octo/ml", 7)) == 1
