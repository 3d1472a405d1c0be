"""A run's worker is alive only if its process exists, is not a zombie and is the same process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from dl_platform.operations.worker import Worker, current, hostname, is_alive, process_start_time


def test_this_process_is_alive_and_round_trips_through_its_tag():
    me = current()
    assert me.pid == os.getpid() and me.host == hostname() and me.started is not None
    assert Worker.parse(me.tag()) == Worker(me.host, me.pid, round(me.started, 2))
    assert is_alive(Worker.parse(me.tag())) is True


def test_a_process_that_exited_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start_time(child.pid)
    child.wait()
    assert is_alive(Worker(hostname(), child.pid, started)) is False


def test_an_unreaped_zombie_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start_time(child.pid)
    time.sleep(0.5)  # exited, not yet waited for: a zombie
    try:
        assert is_alive(Worker(hostname(), child.pid, started)) is False
    finally:
        child.wait()


def test_a_reused_pid_is_not_the_worker():
    me = current()
    assert is_alive(Worker(me.host, me.pid, me.started - 3600)) is False
    # Without a recorded start time: a process that started after the run did is someone else.
    assert is_alive(Worker(me.host, me.pid), not_started_after=me.started - 60) is False
    assert is_alive(Worker(me.host, me.pid), not_started_after=me.started + 60) is True


def test_a_worker_on_another_host_is_never_judged():
    assert is_alive(Worker("elsewhere.example", os.getpid(), None)) is None


def test_garbage_tags_parse_to_nothing():
    assert Worker.parse("") is None and Worker.parse("host|notapid|") is None and Worker.parse("a|1") is None
