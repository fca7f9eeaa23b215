"""Children that work beside a command (workspace/forked.py): what they say arrives line by line,
nothing unreadable is taken, and none is forked from a process with threads.

Forking runs in a new interpreter (:func:`_alone`): the test run may have threads of its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from mlopsctl.workspace import forked
from tests.builders import in_new_interpreter


def _alone(scenario: str, root: Path) -> None:
    in_new_interpreter("tests.workspace.test_forked", scenario, root, timeout=120)


def test_lines_arrive_whole_and_nothing_after_an_unreadable_one() -> None:
    channel = forked.Channel()
    try:
        assert channel.received() == []
        channel.send({"a": 1})
        os.write(channel.fd, b'{"b": [2,')  # a line not ended yet waits for its end
        assert channel.received() == [{"a": 1}]
        assert channel.received() == []
        os.write(channel.fd, b' 3]}\n[4]\n')
        assert channel.received() == [{"b": [2, 3]}, [4]]
        os.write(channel.fd, b'not json\n{"c": 5}\n')
        assert channel.received() == [] and channel.broken
        channel.send({"d": 6})
        assert channel.received() == []
    finally:
        channel.close()
    assert channel.fd not in forked._open
    assert channel.received() == []  # closed: nothing more, and no error


def test_a_child_says_what_it_found_and_keeps_only_its_channel(tmp_path: Path) -> None:
    _alone("_child_says", tmp_path)


def _child_says(tmp: Path) -> None:
    assert threading.active_count() == 1
    other = os.open(tmp, os.O_RDONLY)  # open in the parent, not kept: closed in the child
    first, second = forked.Channel(), forked.Channel()

    def work() -> None:
        try:
            os.fstat(other)
            inherited = True
        except OSError:
            inherited = False
        first.send({"pid": os.getpid(), "other": inherited})
        second.send("kept too: every open channel is")

    pid = forked.fork(work, keep=(first.fd,))
    assert pid is not None
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert first.received() == [{"pid": pid, "other": False}]
    assert second.received() == ["kept too: every open channel is"]

    def fails() -> None:
        raise RuntimeError("a child that fails only exits 1")

    pid = forked.fork(fails, keep=())
    assert pid is not None
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1

    pid = forked.fork(lambda: time.sleep(60), keep=())
    assert pid is not None
    started = time.monotonic()
    forked.reap(pid)  # still running: ended, and reaped
    assert time.monotonic() - started < 10
    try:
        os.waitpid(pid, os.WNOHANG)
        raise AssertionError("not reaped")
    except ChildProcessError:
        pass
    forked.reap(pid)  # twice: nothing happens

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert forked.fork(lambda: None, keep=()) is None  # never with a thread running
    finally:
        stop.set()
        thread.join()
    os.close(other)
    print(json.dumps("ok"))
