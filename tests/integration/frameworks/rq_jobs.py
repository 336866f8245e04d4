"""Jobs for the RQ end-to-end test (imported by the rq worker)."""


def add(a, b):
    return a + b


def boom():
    raise ValueError("boom")
