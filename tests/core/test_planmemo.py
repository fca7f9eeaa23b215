"""The plan memo (core/planmemo.py): a reused plan is always the plan computed now.

On a really applied repository (DVC-tracked data pushed to a folder remote, v1 trained and
registered by apply), each test keeps a memo, moves one thing a plan reads, and compares the plan
printed with the memo on against the one computed with it off. The whole suite also runs with
``MLOPSCTL_PLAN_MEMO=verify`` (tests/conftest.py), which computes every reused plan as well.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.builders import git, run_mlopsctl
from tests.monitoring.monitor_builders import build_applied, copy_applied
from tests.registry.registry_builders import dvc

ON = {"MLOPSCTL_PLAN_MEMO": "on"}
OFF = {"MLOPSCTL_PLAN_MEMO": "off"}
VERIFY = {"MLOPSCTL_PLAN_MEMO": "verify"}


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_applied(tmp_path_factory.mktemp("memo-template"))


@pytest.fixture
def applied(applied_template: Path, tmp_path: Path) -> Path:
    root = copy_applied(applied_template, tmp_path)
    shutil.rmtree(root / ".mlopsctl" / "cache" / "plans", ignore_errors=True)
    time.sleep(0.1)  # past one timestamp tick: a file written just before a plan is never trusted
    return root


def plan(root: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = run_mlopsctl(["--debug", "plan", *args], root, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def keep_memo(root: Path) -> str:
    """Plan twice: the second reuses the first; returns the reused plan's output."""
    rc, first, err = plan(root, ON)
    assert rc == 0, first + err
    assert "plan memo: no memo" in err, err
    rc, again, err = plan(root, ON)
    assert rc == 0 and "plan memo: reused" in err, err
    assert again == first
    return again


def same_as_computed(root: Path, *args: str) -> tuple[str, str]:
    """The plan with the memo on equals the one computed with it off; returns (output, memo's words)."""
    rc_on, on, err_on = plan(root, ON, *args)
    rc_off, off, err_off = plan(root, OFF, *args)
    assert (rc_on, on) == (rc_off, off), f"memo on:\n{on}{err_on}\nmemo off:\n{off}{err_off}"
    return on, err_on


def test_a_no_op_plan_is_reused_and_says_the_same(applied: Path) -> None:
    out = keep_memo(applied)
    assert "No changes." in out
    rc, text, err = plan(applied, ON, "--format", "json")
    assert rc == 0 and "plan memo: reused" in err
    assert json.loads(text)["has_changes"] is False


def _param(root: Path) -> None:
    spec = root / "models" / "iris.yaml"
    spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + 1}",
                           spec.read_text(), count=1))


def _same_size_data_edit(root: Path) -> None:
    """Same size, same second: only the stat's nanoseconds and ctime tell."""
    data = root / "data" / "iris.csv"
    text = data.read_text()
    i = next(i for i, ch in enumerate(text) if ch.isdigit() and ch != "9")
    data.write_text(text[:i] + str(int(text[i]) + 1) + text[i + 1:])


def _data_object(root: Path, folder: Path) -> Path:
    md5 = re.search(r"md5: ([0-9a-f]{32})", (root / "data" / "iris.csv.dvc").read_text())
    assert md5, "data/iris.csv.dvc records no md5"
    return folder / "files" / "md5" / md5.group(1)[:2] / md5.group(1)[2:]


def _cache_object_gone(root: Path) -> None:
    _data_object(root, root / ".dvc" / "cache").unlink()


def _remote_object_gone(root: Path) -> None:
    _data_object(root, root.parent / "dvc-remote").unlink()


def _tag_deleted(root: Path) -> None:
    tags = git(root, "tag", "--list", "iris@*").split()
    assert tags, git(root, "tag", "--list")
    git(root, "tag", "-d", *tags)


def _tag_by_hand(root: Path) -> None:
    # A person assigns the version to production with GTO's tag format, outside mlopsctl.
    git(root, "tag", "-a", "iris#production#1", "-m", "Assignment of iris@v1 to production", "HEAD")


def _managed_file_edited(root: Path) -> None:
    with (root / "dvc.yaml").open("a", encoding="utf-8") as f:
        f.write("# edited by hand\n")


def _lock_edited(root: Path) -> None:
    lock = root / "dvc.lock"
    lock.write_text(lock.read_text().replace("md5:", "md5: 0", 1).replace("md5: 0 ", "md5: 0", 1))


def _artifact_gone(root: Path) -> None:
    shutil.rmtree(root / "artifacts" / "iris")


def _mlops_yaml_remote(root: Path) -> None:
    spec = root / "mlops.yaml"
    spec.write_text(spec.read_text().replace("dvc-remote", "dvc-remote-2"))


def _data_is_now_a_symlink(root: Path) -> None:
    data = root / "data" / "iris.csv"
    outside = root.parent / "elsewhere.csv"
    shutil.copy(data, outside)
    data.unlink()
    os.symlink(outside, data)


MOVES: dict[str, Callable[[Path], None]] = {
    "param": _param,
    "same-size data edit": _same_size_data_edit,
    "cache object gone": _cache_object_gone,
    "remote object gone": _remote_object_gone,
    "tag deleted": _tag_deleted,
    "tag by hand": _tag_by_hand,
    "managed file edited": _managed_file_edited,
    "dvc.lock edited": _lock_edited,
    "artifact gone": _artifact_gone,
    "remote moved in mlops.yaml": _mlops_yaml_remote,
    "data now a symlink out of the repo": _data_is_now_a_symlink,
}


@pytest.mark.parametrize("move", MOVES, ids=list(MOVES))
def test_anything_a_plan_reads_moving_is_seen(applied: Path, move: str) -> None:
    before = keep_memo(applied)
    MOVES[move](applied)
    out, err = same_as_computed(applied)
    assert "plan memo: reused" not in err
    assert out != before, f"{move}: the plan did not change:\n{out}"


def test_a_touched_file_recomputes_and_is_reused_after(applied: Path) -> None:
    before = keep_memo(applied)
    os.utime(applied / "data" / "iris.csv")
    out, err = same_as_computed(applied)
    assert out == before and "data/iris.csv changed" in err
    time.sleep(0.1)
    rc, again, err = plan(applied, ON)
    assert rc == 0 and again == before and "plan memo: reused" in err, err


def test_no_memo_is_kept_on_a_ci_runner_unless_asked(applied: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPSCTL_PLAN_MEMO")  # unset, as on a runner
    plans = applied / ".mlopsctl" / "cache" / "plans"
    computed = plan(applied, OFF)[1]
    for _ in range(2):
        rc, out, err = plan(applied, {"CI": "true"})
        assert rc == 0 and out == computed, out + err
        assert "plan memo: off on a CI runner (CI is set; MLOPSCTL_PLAN_MEMO=on keeps one there too)" in err
        assert not plans.exists() or not list(plans.iterdir())
    rc, out, err = plan(applied, {"CI": "false"})
    assert rc == 0 and out == computed and "plan memo: no memo" in err, err
    rc, out, err = plan(applied, {"CI": "true", "MLOPSCTL_PLAN_MEMO": "on"})
    assert rc == 0 and out == computed and "plan memo: no memo" in err, err
    rc, out, err = plan(applied, {"CI": "true", "MLOPSCTL_PLAN_MEMO": "on"})
    assert rc == 0 and out == computed and "plan memo: reused" in err, err


def test_a_fresh_clones_second_plan_reuses_its_first(applied: Path) -> None:
    """A fresh clone has no ``.mlopsctl/``, which every plan looks at: the first plan makes it
    before reading anything, so the memo it keeps there holds for the next plan."""
    base = applied.parent
    git(applied, "push", "-q", "origin", "--tags")  # the registered version, as apply's CI job pushes it
    git(base, "clone", "-q", "-b", "main", "origin.git", "mate")
    mate = base / "mate"
    dvc(mate, "pull", "-q")
    assert not (mate / ".mlopsctl").exists()
    time.sleep(0.1)
    rc, first, err = plan(mate, ON)
    assert rc == 0 and "plan memo: no memo" in err, first + err
    assert "No changes." in first, first
    rc, again, err = plan(mate, ON)
    assert rc == 0 and "plan memo: reused" in err, err
    assert again == first


def test_a_reused_plan_imports_nothing_only_computing_needs(applied: Path) -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom mlopsctl.cli import main\ntry:\n    main(['--debug', 'plan'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('mlopsctl.core.plan', 'mlopsctl.core.reuse', 'tempfile', 'jinja2', 'yaml')"
            " if m in sys.modules), file=sys.stderr)")
    env = {**os.environ, **ON}
    said = []
    for _ in range(2):  # the first computes and keeps the plan, the second reuses it
        proc = subprocess.run([sys.executable, "-c", code], cwd=applied, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert "No changes." in proc.stdout, proc.stdout + proc.stderr
        said.append(proc.stderr)
    assert "plan memo: reused" in said[1] and said[1].rstrip().endswith("[]"), said[1]
    assert "'mlopsctl.core.plan'" in said[0], said[0]  # the computed one did import it


def test_options_have_their_own_memo(applied: Path) -> None:
    keep_memo(applied)
    out, err = same_as_computed(applied, "--destroy")
    assert "plan memo: reused" not in err and "destroy" in out.lower()
    rc, _, err = plan(applied, ON)
    assert rc == 0 and "plan memo: reused" in err  # the plain plan's memo is still there



def read_memo(path: Path) -> dict[str, Any]:
    """A memo file as one document: its head line (format, key, record, model specs and their
    folders' listings), its plan line (the plan but its changes, lines said, run memos) and a line
    per change (the change, a tab, what it looked at), put back in the plan and in ``reads``."""
    head, body, *rows = path.read_text().split("\n")
    doc = {**json.loads(head), **json.loads(body)}
    doc["plan"]["changes"] = []
    for row in rows:
        change, states, reads = row.split("\t")
        before, after, payload = json.loads(states)
        doc["plan"]["changes"].append({**json.loads(change), "before": before, "after": after, "payload": payload})
        if reads:
            doc["reads"][doc["plan"]["changes"][-1]["address"]] = json.loads(reads)
    return doc


def write_memo(path: Path, doc: dict[str, Any]) -> None:
    """:func:`read_memo`'s document written back in the memo's lines."""
    head = {k: doc[k] for k in ("format", "key", "record", "specs", "listings", "sum") if k in doc}
    body = {k: v for k, v in doc.items() if k not in head}
    plan = {k: v for k, v in body["plan"].items() if k != "changes"}
    reads = body.get("reads")
    rows = []
    for c in body["plan"]["changes"]:
        states = [c.get("before"), c.get("after"), c.get("payload")]
        said = json.dumps(reads[c["address"]]) if isinstance(reads, dict) and c["address"] in reads else ""
        rows.append("\t".join([json.dumps({k: v for k, v in c.items() if k not in ("before", "after", "payload")}),
                               json.dumps(states), said]))
    if isinstance(reads, dict):
        reads = {a: r for a, r in reads.items() if a not in {c["address"] for c in body["plan"]["changes"]}}
    rest = "\n".join([json.dumps({**body, "plan": plan, **({"reads": reads} if "reads" in body else {})}), *rows])
    if "sum" in head:  # the digest of the lines, as mlopsctl writes it: only what they say is changed
        head["sum"] = hashlib.sha256(rest.encode()).hexdigest()
    path.write_text(json.dumps(head) + "\n" + rest)


def test_an_edited_memo_is_caught_in_verify_mode(applied: Path) -> None:
    keep_memo(applied)
    (memo,) = (applied / ".mlopsctl" / "cache" / "plans").glob("*.json")
    doc = read_memo(memo)
    doc["plan"]["warnings"] = ["planted"]
    write_memo(memo, doc)
    rc, out, err = plan(applied, {"MLOPSCTL_PLAN_MEMO": "verify"})
    assert rc == 1 and "differs from the computed one" in err and "planted" in err, out + err


@pytest.mark.parametrize("damage", ["not json", "symlink", "other key", "bad record", "torn plan"])
def test_a_damaged_or_planted_memo_is_ignored(applied: Path, damage: str) -> None:
    expected = keep_memo(applied)
    (memo,) = (applied / ".mlopsctl" / "cache" / "plans").glob("*.json")
    doc = read_memo(memo)
    if damage == "not json":
        memo.write_text("{ not json")
    elif damage == "symlink":
        planted = applied.parent / "planted.json"
        doc["plan"]["warnings"] = ["planted"]
        write_memo(planted, doc)
        memo.unlink()
        memo.symlink_to(planted)
    elif damage == "other key":
        doc["key"] = "0" * 64
        doc["plan"]["warnings"] = ["planted"]
        write_memo(memo, doc)
    elif damage == "torn plan":  # the record still holds, the plan line is cut short
        head, body = memo.read_text().split("\n", 1)
        memo.write_text(head + "\n" + body[: len(body) // 2])
    else:
        doc["record"]["probes"] = [["git", [str(applied), "log", f"--output={applied.parent / 'x'}"], "0"]]
        write_memo(memo, doc)
    rc, out, err = plan(applied, ON)
    assert rc == 0 and out == expected and "planted" not in out and "plan memo: reused" not in err, err
    assert not (applied.parent / "x").exists()  # a probe named in a file is never run as written


def test_apply_never_reads_the_memo(applied: Path) -> None:
    keep_memo(applied)
    (memo,) = (applied / ".mlopsctl" / "cache" / "plans").glob("*.json")
    _param(applied)
    # Make the stale memo look current: its record names nothing, so it would be "reused".
    doc = read_memo(memo)
    doc["record"] = {"stat": {}, "lstat": {}, "list": {}, "probes": []}
    write_memo(memo, doc)
    proc = run_mlopsctl(["plan", "-o", "plan.json"], applied, env=ON)
    assert "No changes." in proc.stdout  # the doctored memo is believed by plan alone...
    proc = run_mlopsctl(["apply", "plan.json"], applied, env=ON)
    # ...apply re-derives the saved plan from the specs and state and refuses it.
    assert proc.returncode == 1 and "stale" in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def three_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three models applied (trained, recorded, registered) and committed: a clean tree."""
    from tests.builders import make_repo

    base = tmp_path_factory.mktemp("memo-three")
    root = make_repo(base, models=("alpha", "beta", "gamma"))
    proc = run_mlopsctl(["apply", "--auto-approve"], root, env=OFF)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    git(root, "add", "-A")
    if git(root, "status", "--porcelain"):
        git(root, "commit", "-q", "-m", "First apply")
    return base


def _three_models(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template / "dvc-remote", tmp_path / "dvc-remote")
    root = tmp_path / "repo"
    shutil.copytree(template / "repo", root, symlinks=True)
    shutil.rmtree(root / ".mlopsctl" / "cache" / "plans", ignore_errors=True)
    time.sleep(0.1)
    rc, out, err = plan(root, ON)
    assert rc == 0 and "No changes." in out and "plan memo: no memo" in err, out + err
    return root


@pytest.mark.parametrize("edit", ["param", "data path", "data shared", "feature removed", "gate", "renamed",
                                  "new model", "model removed"])
def test_after_a_spec_edit_the_plan_is_computed_again_and_then_kept(three_template: Path, tmp_path: Path,
                                                                     edit: str) -> None:
    root = _three_models(three_template, tmp_path)
    spec = root / "models" / "beta.yaml"
    text = spec.read_text()
    if edit == "param":
        spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + 5}", text))
    elif edit == "data path":
        (root / "data" / "beta2.csv").write_text((root / "data" / "beta.csv").read_text())
        spec.write_text(text.replace("data/beta.csv", "data/beta2.csv"))
    elif edit == "data shared":  # alpha's dataset is now beta's too: alpha's stage looks at a changed dataset
        spec.write_text(text.replace("data/beta.csv", "data/alpha.csv"))
    elif edit == "feature removed":
        spec.write_text(re.sub(r"\n  petal_width:\n(    .*\n)+", "\n", text, count=1))
    elif edit == "gate":
        spec.write_text(text.replace("gates:", "gates:\n  f1_macro: '>= 0.5'", 1))
    elif edit == "renamed":
        spec.write_text(text.replace("name: beta", "name: delta", 1))
    elif edit == "new model":
        (root / "data" / "omega.csv").write_text((root / "data" / "beta.csv").read_text())
        (root / "models" / "omega.yaml").write_text(text.replace("beta", "omega"))
    else:
        spec.unlink()
    time.sleep(0.1)
    # Verify mode takes what it can from the kept plan, computes the whole plan too and fails on any
    # difference (in the plan or in the lines it says); then keeps the result.
    rc, verified, err = plan(root, VERIFY)
    assert rc in (0, 1) and "differ" not in err, verified + err
    assert "plan memo: reused" not in err, err
    if edit in ("new model", "model removed"):  # models/ lists other names: everything is computed again
        assert "models changed" in err and "taken from the kept plan" not in err, err
    else:  # alpha's and gamma's changes are taken from the kept plan, beta's are computed again
        taken = re.search(r"model specs edited: beta\n.*plan memo: (\d+) of (\d+) changes taken", err, re.DOTALL)
        assert taken and 0 < int(taken.group(1)) < int(taken.group(2)), err
    # The memo kept after taking changes (the kept record updated with what was read again) is
    # reused, and says what the plan computed from scratch says.
    out, err = same_as_computed(root)
    assert out == verified and "plan memo: reused" in err, err
    assert ("No changes." in out) is (edit == "gate"), out  # a new gate judges the next version only
    assert spec.exists() is (edit != "model removed")


def test_a_second_spec_edited_or_staged_still_takes_the_rest_from_the_kept_plan(three_template: Path,
                                                                               tmp_path: Path) -> None:
    """An edited spec is listed by ``git status``, which a blocked version asks: another spec edited
    next, or one staged, moves its answer in spec lines alone, and the rest is still taken."""
    root = _three_models(three_template, tmp_path)
    (root / "NOTES.md").write_text("Read by people, never by a plan.\n")
    git(root, "add", "NOTES.md")
    git(root, "commit", "-q", "-m", "Notes")
    time.sleep(0.1)
    assert plan(root, ON)[0] == 0  # HEAD moved: computed and kept again

    def bump(name: str) -> None:
        spec = root / "models" / f"{name}.yaml"
        spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + 5}",
                               spec.read_text()))
        time.sleep(0.1)

    def taken(err: str, edited: str) -> None:
        found = re.search(rf"model specs edited: {re.escape(edited)}\n.*plan memo: (\d+) of (\d+) changes taken",
                          err, re.DOTALL)
        assert found and 0 < int(found.group(1)) < int(found.group(2)), err

    bump("beta")
    rc, out, err = plan(root, VERIFY)  # beta's new version is blocked until the edit is committed
    assert rc == 1 and "differ" not in err and "model.beta" in out, out + err
    taken(err, "beta")
    bump("gamma")  # git status now lists gamma too
    rc, out, err = plan(root, VERIFY)
    assert rc == 1 and "differ" not in err and "answers differently" not in err, out + err
    taken(err, "gamma")
    assert "model.beta" in out and "model.gamma" in out, out
    git(root, "add", "models/gamma.yaml")  # the same bytes, another line in git status
    time.sleep(0.1)
    rc, staged, err = plan(root, VERIFY)
    assert rc == 1 and "differ" not in err and staged == out, staged + err
    taken(err, "(none; git status moved in their lines alone)")
    # A line of another file moving in git status: everything is computed again, and then the same.
    (root / "NOTES.md").write_text("Edited.\n")
    time.sleep(0.1)
    rc, again, err = plan(root, ON)
    assert rc == 1 and "answers differently" in err and "changes taken" not in err, again + err
    assert "NOTES.md" in again and "NOTES.md" not in staged, again  # the blocked version's reason names it
    same_as_computed(root)


def test_a_change_taken_again_is_kept_as_the_text_it_was_kept_as(three_template: Path, tmp_path: Path) -> None:
    root = _three_models(three_template, tmp_path)
    (memo,) = (root / ".mlopsctl" / "cache" / "plans").glob("*.json")
    head, body, *rows = memo.read_text().split("\n")
    # The same JSON, spelled with spaces: equal when read, but not the text mlopsctl would write.
    spaced = ["\t".join(json.dumps(json.loads(part)) if part else "" for part in row.split("\t")) for row in rows]
    rest = "\n".join([body, *spaced])
    memo.write_text(json.dumps({**json.loads(head), "sum": hashlib.sha256(rest.encode()).hexdigest()}) + "\n" + rest)
    spec = root / "models" / "beta.yaml"
    spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + 5}", spec.read_text()))
    time.sleep(0.1)
    rc, verified, err = plan(root, VERIFY)  # the plan is the one computed whole (beta's blocked until trained)
    assert rc in (0, 1) and "differ" not in err and "changes taken from the kept plan" in err, verified + err
    (memo,) = (root / ".mlopsctl" / "cache" / "plans").glob("*.json")
    kept = {json.loads(r.split("\t")[0])["address"]: r for r in memo.read_text().split("\n")[2:]}
    taken = {a: r for a, r in kept.items() if r in spaced}
    assert any(a.startswith("stage.alpha") for a in taken) and not any(".beta" in a for a in taken), sorted(taken)
    assert all(r in spaced or ", " not in r.split("\t")[0][:40] for r in kept.values())  # the rest written anew
    assert read_memo(memo)["plan"]["changes"]  # and the whole memo still reads


@pytest.mark.parametrize("damage", ["reads gone", "reads of another shape", "a planted change"])
def test_a_damaged_record_of_reads_is_never_taken_from(three_template: Path, tmp_path: Path, damage: str) -> None:
    root = _three_models(three_template, tmp_path)
    (memo,) = (root / ".mlopsctl" / "cache" / "plans").glob("*.json")
    doc = read_memo(memo)
    if damage == "reads gone":
        del doc["reads"]
    elif damage == "reads of another shape":
        doc["reads"] = {a: {"models": r} for a, r in doc["reads"].items()}
    else:  # alpha's stage planted as "update": if taken, the plan would say so
        for c in doc["plan"]["changes"]:
            if c["address"] == "stage.alpha.train":
                c["action"], c["reasons"] = "update", ["planted"]
    write_memo(memo, doc)
    spec = root / "models" / "beta.yaml"
    spec.write_text(re.sub(r"n_estimators: (\d+)", lambda m: f"n_estimators: {int(m.group(1)) + 5}", spec.read_text()))
    time.sleep(0.1)
    if damage == "a planted change":  # taken (the memo is trusted like Git's index), but verify mode catches it
        rc, out, err = plan(root, VERIFY)
        assert rc == 1 and "differ" in err and "planted" in err, out + err
        return
    out, err = same_as_computed(root)
    assert "not in the expected shape" in err and "taken from the kept plan" not in err, err


def test_a_column_of_kept_rows_is_parsed_in_one_call_and_only_when_it_has_one_text_per_row() -> None:
    from mlopsctl.core.planmemo import _loads_each

    rows = [[b'{"a":1}', b"[1]", b""], [b'"x"', b"[2]", b'{"b":[2,3]}']]
    assert _loads_each(rows, 0) == [{"a": 1}, "x"] and _loads_each(rows, 1) == [[1], [2]]
    assert _loads_each([r for r in rows if r[2]], 2) == [{"b": [2, 3]}]
    assert _loads_each([], 0) == []
    # A text holding two values, or none, would shift every later row onto another change.
    for column in ([b'{"a":1},{"b":2}', b'{"c":3}'], [b"", b'{"c":3}'], [b"1]", b"[2"]):
        with pytest.raises(ValueError):  # Memo.lookup: "not in the expected shape"
            _loads_each([[text] for text in column], 0)


def test_a_kept_change_reads_its_states_only_when_asked_and_equals_the_change() -> None:
    from mlopsctl.core.model import Action, Change
    from mlopsctl.core.planmemo import _change_texts, _KeptChange
    from mlopsctl.errors import Location, MlopsError

    change = Change(address="stage.m.train", action=Action.NOOP, before={"deps": {"d.csv": "ab"}}, after={"x": 1},
                    reasons=("r",), depends_on=("file.dvc.yaml",), model="m", fingerprint="f",
                    payload={"desired": {"name": "train_m"}}, source=Location("models/m.yaml", 1, 1))
    head, states = _change_texts(change)
    kept = _KeptChange.read(head.encode(), states.encode())
    assert kept.action is Action.NOOP and kept.model == "m" and "_states" in kept.__dict__  # not parsed yet
    assert kept == change and change == kept and kept.to_dict() == change.to_dict()
    assert "_states" not in kept.__dict__ and kept.payload == {"desired": {"name": "train_m"}}
    assert kept.with_(reasons=()) == change.with_(reasons=())
    other = Change(address="file.dvc.yaml", action=Action.UPDATE, before=None, after={"digest": "d"},
                   diff="--- a\n+++ b\n", blocked="hand edit", requires="a Docker engine")
    assert _KeptChange.read(*(t.encode() for t in _change_texts(other))) == other == Change.from_dict(other.to_dict())
    for text in (head.replace('"no-op"', '"explode"'), head.replace('"address"', '"where"')):
        with pytest.raises((KeyError, ValueError)):  # Memo.lookup: "not in the expected shape"
            _KeptChange.read(text.encode(), states.encode())
    for bad in (b"[1, 2, 3]", b"not json", b'[null, null]'):
        broken = _KeptChange.read(head.encode(), bad)
        assert broken.address == "stage.m.train"
        with pytest.raises(MlopsError, match="plan memo.*remove that folder"):
            _ = broken.before
