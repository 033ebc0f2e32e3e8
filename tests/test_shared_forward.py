"""Micro-batching of concurrent prediction requests: each caller gets its own rows, errors reach every caller."""

import threading
import time

import numpy as np
import pytest

from trainer.predict import SharedForward


def make(fail_on: str | None = None, hold: bool = True):
    calls: list[int] = []

    def forward(texts):
        calls.append(len(texts))
        if hold and len(calls) == 1:  # hold the model until the other 19 requests have queued up behind it
            deadline = time.time() + 10
            while len(shared._queue) < 20 and time.time() < deadline:  # the first one stays queued until its pass ends
                time.sleep(0.01)
        if fail_on in texts:
            raise ValueError("bad batch")
        return np.array([[len(t)] for t in texts])

    shared = SharedForward(forward)
    return shared, calls


def run_concurrently(shared, requests):
    results, threads = {}, []

    def call(i, texts):
        try:
            results[i] = shared(texts)
        except ValueError as exc:
            results[i] = exc

    for i, texts in enumerate(requests):
        threads.append(threading.Thread(target=call, args=(i, texts)))
        threads[-1].start()
        time.sleep(0.005)
    for thread in threads:
        thread.join(timeout=20)
    return results


def test_concurrent_requests_share_passes_and_get_their_own_rows():
    shared, calls = make()
    requests = [["x" * (i + 1), "yy"] for i in range(20)]
    results = run_concurrently(shared, requests)
    assert calls == [2, 38]  # 20 requests, 2 forward passes
    for i in range(20):
        assert results[i].tolist() == [[i + 1], [2]]


def test_an_error_reaches_every_caller_of_the_batch():
    shared, calls = make(fail_on="boom")
    results = run_concurrently(shared, [["first"]] + [["boom" if i == 5 else "ok"] for i in range(19)])
    assert results[0].tolist() == [[5]]
    assert all(isinstance(results[i], ValueError) for i in range(1, 20))
    assert shared(["after"]).tolist() == [[5]]  # the model is free again


@pytest.mark.parametrize("texts", [["a"], ["a", "bb", "ccc"]])
def test_single_request(texts):
    shared, calls = make(hold=False)
    assert shared(texts).tolist() == [[len(t)] for t in texts]


def test_a_large_request_is_split_so_a_small_one_waits_one_pass():
    """Issue 12: a 5,000-text request no longer holds the model until it is done.

    Counted in passes, not seconds: a one-text request that arrives during the large request's
    first pass is answered in the very next pass, while the large one still has passes to go.
    """
    passes: list[list[str]] = []
    results = {}

    def forward(texts):
        passes.append(list(texts))
        if len(passes) == 1:  # the small request arrives while the large one holds the model
            deadline = time.time() + 10
            while len(shared._queue) < 2 and time.time() < deadline:
                time.sleep(0.01)
        return np.array([[len(t)] for t in texts])

    shared = SharedForward(forward)
    large = ["x" * (i % 7 + 1) for i in range(5000)]

    def call(name, texts):
        results[name] = shared(texts)

    big = threading.Thread(target=call, args=("large", large))
    big.start()
    while not passes:
        time.sleep(0.01)
    small = threading.Thread(target=call, args=("small", ["hello"]))
    small.start()
    small.join(timeout=30)
    big.join(timeout=60)
    assert results["small"].tolist() == [[5]]
    assert passes[1][0] == "hello" and all("hello" not in p for p in passes[2:])  # served first in the next pass
    assert max(len(p) for p in passes) <= SharedForward.PASS_TEXTS and len(passes) >= 5000 // SharedForward.PASS_TEXTS
    assert results["large"].ravel().tolist() == [len(t) for t in large]  # every row in order
