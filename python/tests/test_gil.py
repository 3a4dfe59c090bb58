"""Fitting and scoring release the GIL: another Python thread runs while the core works.

With a 30 s switch interval a thread that holds the GIL keeps it until it blocks or ends, so the
main thread, woken by the worker just before the call, can run before the call has finished only
if the call released the GIL."""

import sys
import threading

import numpy as np
import pytest

from mcp_train import IsolationForest, LocalOutlierFactor

ROWS = 400_000


@pytest.fixture
def long_switch_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    yield
    sys.setswitchinterval(before)


def runs_while(work):
    """Whether the main thread got to run while `work` was still running in another thread."""
    started = threading.Event()
    finished = []

    def worker():
        started.set()
        work()
        finished.append(True)

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    ran_during = not finished
    thread.join()
    assert finished, "the work ended"
    return ran_during


X = np.random.default_rng(0).standard_normal((ROWS, 10))


def test_scoring_releases_the_gil(long_switch_interval):
    forest = IsolationForest(random_state=0).fit(X)
    assert runs_while(lambda: forest.score_samples(X))


def test_fitting_releases_the_gil(long_switch_interval):
    # contamination scores every training row inside fit: long enough to see.
    assert runs_while(lambda: IsolationForest(contamination=0.1, random_state=0).fit(X))
    assert runs_while(lambda: LocalOutlierFactor(novelty=True).fit(X[:20_000]))


def test_holding_the_gil_is_detected(long_switch_interval):
    """The check itself: pure Python work that never releases the GIL is seen as such."""

    def busy():
        total = 0
        for i in range(3_000_000):
            total += i

    assert not runs_while(busy)
