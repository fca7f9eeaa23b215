"""The facts helper (pipeline/prefetch.py): a second process finds the DVC facts a first plan
needs; the plan takes in only what holds for its own stat of each file, and is the same plan.

On a really applied repository (DVC-tracked data, a trained model, ``dvc.lock``), with the helper
forked from ``mlopsctl plan`` and from a new interpreter running a scenario of this module: a helper
is only ever forked from a process without threads, and the test run may have some (the servers
other tests start).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from mlopsctl.pipeline import prefetch
from mlopsctl.pipeline.facts import CACHE_FILE, StatCache, load_lock, read_dvcfile
from mlopsctl.specs.load import collect_problems, parse_valid, spec_files
from mlopsctl.specs.yamlio import load_block
from mlopsctl.workspace import forked
from mlopsctl.workspace.digests import DigestCache
from mlopsctl.workspace.forked import Channel
from tests.builders import in_new_interpreter, run_mlopsctl
from tests.monitoring.monitor_builders import build_applied, copy_applied


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_applied(tmp_path_factory.mktemp("prefetch-template"))


@pytest.fixture
def applied(applied_template: Path, tmp_path: Path) -> Path:
    root = copy_applied(applied_template, tmp_path)
    shutil.rmtree(root / ".mlopsctl" / "cache", ignore_errors=True)  # a fresh clone's: nothing kept
    time.sleep(0.1)  # past one timestamp tick: a file written just before is never kept
    return root


def _alone(scenario: str, root: Path) -> None:
    in_new_interpreter("tests.pipeline.test_prefetch", scenario, root, {prefetch.ENV: "on"})


def _locked_paths(root: Path) -> list[str]:
    stages = load_block((root / "dvc.lock").read_text())["stages"]
    return sorted({i["path"] for s in stages.values() for g in ("deps", "outs") for i in s.get(g) or ()})


def _files(root: Path, rel: str) -> list[str]:
    full = root / rel
    if full.is_file():
        return [rel]
    return sorted(str(p.relative_to(root)) for p in full.rglob("*") if p.is_file())


def _fed_cache(root: Path) -> StatCache:
    """A run's cache with the helper's findings taken in, once the helper has said everything."""
    cache = StatCache(root, DigestCache(root))
    feed = prefetch.feeder(root, cache)
    assert feed is not None, "no helper was started"
    cache.feed = feed
    helper = prefetch._helpers[os.fspath(root)]
    deadline = time.monotonic() + 60
    while not helper.done:
        assert time.monotonic() < deadline, "the helper said nothing in a minute"
        feed()
        time.sleep(0.01)
    return cache


def test_the_helper_finds_the_facts_the_plan_computes(applied: Path) -> None:
    _alone("_finds_the_facts", applied)


def _finds_the_facts(applied: Path) -> None:
    assert threading.active_count() == 1
    prefetch.start(applied)
    pid = prefetch._helpers[os.fspath(applied)].pid
    cache = _fed_cache(applied)
    files = [f for rel in _locked_paths(applied) for f in _files(applied, rel)]
    assert "artifacts/iris/model.joblib" in files and "data/iris.csv" in files
    for rel in files:
        md5 = hashlib.md5((applied / rel).read_bytes()).hexdigest()
        assert cache.entries[rel][-1] == md5, rel  # taken in, not computed: nothing asked yet
    assert cache.lock_memo["stages"] == load_lock(applied)
    assert cache.dvcfiles["data/iris.csv.dvc"][-1] == read_dvcfile(applied, "data/iris.csv")
    model = "artifacts/iris/model.joblib"
    sha = hashlib.sha256((applied / model).read_bytes()).hexdigest()
    assert cache.shared is not None and cache.shared.digests(model)["sha256"] == sha
    prefetch.finish(applied)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped
    assert not prefetch._helpers


def test_the_helper_parses_the_specs_as_the_plan_would(applied: Path) -> None:
    models = applied / "models"
    text = (models / "iris.yaml").read_text()
    assert "name: iris\n" in text
    for n in range(2, 7):
        (models / f"iris{n}.yaml").write_text(text.replace("name: iris\n", f"name: iris{n}\n"))
    (models / "iris7.yaml").write_text(text.replace("name: iris\n", "name: [iris7\n"))  # not YAML
    (models / "iris8.yaml").write_text(text.replace("name: iris\n", "name: iris8\nseed: many\n"))  # invalid
    _alone("_parses_the_specs", applied)


def _parses_the_specs(applied: Path) -> None:
    prefetch.start(applied)
    helper = prefetch._helpers[os.fspath(applied)]
    deadline = time.monotonic() + 60
    while not helper.done:  # the plan has not started on any spec: the helper parses every model's
        assert time.monotonic() < deadline, "the helper said nothing in a minute"
        prefetch._arrived(helper)
        time.sleep(0.01)
    files = spec_files(applied)
    assert len(files) == 9 and set(helper.specs) == set(files[1:]) - {"models/iris7.yaml", "models/iris8.yaml"}
    edited = applied / "models" / "iris6.yaml"
    edited.write_text(edited.read_text() + "# edited after the helper read it\n")
    parsed = prefetch.parsed_specs(applied)
    assert parsed is not None
    raw = edited.read_bytes()
    assert parse_valid("models/iris6.yaml", raw, "Model") is not None
    assert parsed.get("models/iris6.yaml", hashlib.sha256(raw).hexdigest()) is None  # other bytes: parsed here
    for rel in files[1:6]:
        raw = (applied / rel).read_bytes()
        assert parsed.get(rel, hashlib.sha256(raw).hexdigest()) == parse_valid(rel, raw, "Model"), rel

    # A load that takes what the helper parsed is the load that parses everything itself.
    prefetch.finish()
    prefetch.start(applied)
    with_helper, problems = collect_problems(applied, cache=False, parsed=prefetch.parsed_specs(applied))
    alone, alone_problems = collect_problems(applied, cache=False)
    prefetch.finish()
    assert with_helper is not None and alone is not None
    assert [p.format() for p in problems] == [p.format() for p in alone_problems] and len(problems) >= 2
    assert sorted(with_helper.models) == sorted(alone.models) and len(alone.models) == 6
    for name, doc in alone.models.items():
        taken = with_helper.models[name]
        assert (taken.data, taken.lines, taken.digest) == (doc.data, doc.lines, doc.digest), name


def test_a_file_changed_after_the_helper_read_it_is_read_again(applied: Path) -> None:
    _alone("_changed_after_reading", applied)


def _changed_after_reading(applied: Path) -> None:
    prefetch.start(applied)
    cache = _fed_cache(applied)
    data = applied / "data" / "iris.csv"
    kept = cache.entries["data/iris.csv"][-1]
    with data.open("a") as f:
        f.write("5.0,3.0,1.0,0.2,setosa\n")
    now = hashlib.md5(data.read_bytes()).hexdigest()
    assert now != kept
    got = cache.file_md5("data/iris.csv")
    assert got is not None and got.md5 == now
    prefetch.finish()


def test_a_killed_helper_or_an_unreadable_line_costs_only_time(applied: Path) -> None:
    _alone("_killed", applied)

    # A line that is not what a helper writes: nothing from it on is taken.
    channel = Channel()
    fake = prefetch._Helper(os.getpid(), channel)
    st = os.stat(applied / "data/iris.csv")
    good = {"md5": {"data/a.csv": [1, 2, 3, 4, "0" * 32]}}
    later = {"md5": {"data/iris.csv": [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, "f" * 32]}}
    os.write(channel.fd, json.dumps(good).encode() + b"\nnot json\n" + json.dumps(later).encode() + b"\n")
    cache = StatCache(applied)
    assert prefetch._take(fake, cache) is True
    assert "data/a.csv" in cache.entries and "data/iris.csv" not in cache.entries
    assert fake.done and prefetch._take(fake, cache) is False
    channel.close()


def _killed(applied: Path) -> None:
    prefetch.start(applied)
    helper = prefetch._helpers[os.fspath(applied)]
    os.kill(helper.pid, signal.SIGKILL)
    cache = StatCache(applied, DigestCache(applied))
    cache.feed = prefetch.feeder(applied, cache)
    got = cache.file_md5("data/iris.csv")
    assert got is not None and got.md5 == hashlib.md5((applied / "data/iris.csv").read_bytes()).hexdigest()
    prefetch.finish()


def test_a_first_plan_with_the_helper_is_the_plan_without_it(applied: Path) -> None:
    shown, kept = {}, {}
    for how in ("off", "on", "off", "on"):
        shutil.rmtree(applied / ".mlopsctl" / "cache", ignore_errors=True)
        time.sleep(0.05)
        proc = run_mlopsctl(["plan"], applied, env={prefetch.ENV: how, "MLOPSCTL_PLAN_MEMO": "verify"})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        shown.setdefault(how, proc.stdout)
        assert proc.stdout == shown[how]
        facts = json.loads((applied / ".mlopsctl" / "cache" / CACHE_FILE).read_text())
        kept[how] = {k: v[-1] for k, v in facts["md5"].items()}
    assert shown["on"] == shown["off"] and "No changes." in shown["on"]
    assert kept["on"] == kept["off"] and kept["on"]


def test_when_a_helper_is_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert prefetch.KEPT_FACTS == os.path.join(".mlopsctl", "cache", CACHE_FILE)
    root = tmp_path
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.delenv(prefetch.ENV, raising=False)
    assert not prefetch.wanted(root)  # no dvc.lock
    (root / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    assert not prefetch.wanted(root)  # a small one: the facts cost less than a helper
    monkeypatch.setenv(prefetch.ENV, "on")
    assert prefetch.wanted(root)
    monkeypatch.setenv(prefetch.ENV, "off")
    (root / "dvc.lock").write_text("#" * prefetch.MIN_LOCK_BYTES)
    assert not prefetch.wanted(root)
    monkeypatch.delenv(prefetch.ENV)
    assert prefetch.wanted(root)
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert not prefetch.wanted(root)  # one core: nothing to gain
    monkeypatch.setattr(forked, "cores", lambda: 2)
    (root / ".mlopsctl" / "cache").mkdir(parents=True)
    (root / ".mlopsctl" / "cache" / CACHE_FILE).write_text("{}")
    assert not prefetch.wanted(root)  # facts are kept: most are found without a helper
