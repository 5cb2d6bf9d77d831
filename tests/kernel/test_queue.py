"""The run queue, pure: states, fifo and fair order, batches, cancelling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabd.kernel.queue import QueueError, RequestState, RunQueue, RunRequest, Status


def req(
    rid: str, who: str = "ann", batch: str | None = None, cell: str | None = None
) -> RunRequest:
    return RunRequest(
        rid, cell or f"cell-{rid}", f"code {rid}", {"name": who, "client_id": None}, 0.0, batch
    )


def drain(queue: RunQueue) -> list[str]:
    order = []
    while (r := queue.next()) is not None:
        order.append(r.request_id)
        queue.finish(r.request_id, Status.OK)
    return order


def test_fifo_runs_in_arrival_order_one_at_a_time() -> None:
    queue = RunQueue()
    queue.add([req("a1"), req("a2"), req("b1", "ben")])
    first = queue.next()
    assert first is not None and first.state is RequestState.RUNNING
    with pytest.raises(RuntimeError):
        queue.next()
    assert [r.request_id for r in queue.planned()] == ["a1", "a2", "b1"]
    queue.finish("a1", Status.OK)
    assert first.state is RequestState.DONE and first.status is Status.OK
    assert drain(queue) == ["a2", "b1"]
    assert len(queue) == 0


def test_fair_takes_turns_across_participants() -> None:
    queue = RunQueue("fair")
    queue.add([req("c1", "cat")])
    assert queue.next() is not None  # cat is running
    queue.add([req(f"a{i}", "ann", batch="all") for i in range(1, 4)])
    queue.add([req("b1", "ben")])
    assert [r.request_id for r in queue.planned()] == ["c1", "a1", "b1", "a2", "a3"]
    queue.finish("c1", Status.OK)
    assert drain(queue) == ["a1", "b1", "a2", "a3"]


def test_fair_lets_a_newcomer_go_next() -> None:
    queue = RunQueue("fair")
    queue.add([req(f"a{i}", "ann") for i in range(1, 5)])
    assert queue.next() is not None
    queue.finish("a1", Status.OK)
    assert queue.next() is not None
    queue.add([req("b1", "ben")])  # arrives while a2 runs
    queue.finish("a2", Status.OK)
    assert drain(queue) == ["b1", "a3", "a4"]


def test_participants_are_told_apart_by_client_id_first() -> None:
    one = RunRequest("x", "c", "", {"name": "same", "client_id": 1}, 0.0)
    two = RunRequest("y", "c", "", {"name": "same", "client_id": 2}, 0.0)
    assert one.participant != two.participant


def test_an_error_cancels_the_rest_of_that_batch_only() -> None:
    queue = RunQueue()
    queue.add([req("a1", batch="A"), req("a2", batch="A")])
    queue.add([req("b1", "ben", batch="B")])
    queue.add([req("a3", batch="A")])
    assert queue.next() is not None
    cancelled = queue.finish("a1", Status.ERROR)
    assert [r.request_id for r in cancelled] == ["a2", "a3"]
    assert all(r.status is Status.CANCELLED and "batch" in r.reason for r in cancelled)
    assert drain(queue) == ["b1"]


def test_an_error_outside_a_batch_cancels_nothing() -> None:
    queue = RunQueue()
    queue.add([req("a1"), req("a2")])
    assert queue.next() is not None
    assert queue.finish("a1", Status.ERROR) == []
    assert drain(queue) == ["a2"]


def test_cancel_by_request_id() -> None:
    queue = RunQueue()
    queue.add([req("a1"), req("a2"), req("a3")])
    assert queue.next() is not None
    cancelled = queue.cancel("a2", "cancelled by ben")
    assert cancelled.status is Status.CANCELLED and cancelled.reason == "cancelled by ben"
    for rid, code in [("a1", "running"), ("a2", "finished"), ("zz", "unknown")]:
        with pytest.raises(QueueError) as err:
            queue.cancel(rid, "")
        assert err.value.code == code
    queue.finish("a1", Status.OK)
    assert drain(queue) == ["a3"]


def test_cancel_all_leaves_the_running_request_to_the_caller() -> None:
    queue = RunQueue()
    queue.add([req("a1"), req("a2"), req("a3")])
    assert queue.next() is not None
    assert [r.request_id for r in queue.cancel_all("restart")] == ["a2", "a3"]
    assert [r.request_id for r in queue.planned()] == ["a1"]
    with pytest.raises(QueueError):
        queue.finish("a2", Status.OK)


def test_public_shape() -> None:
    r = req("a1")
    assert r.public() == {
        "request_id": "a1",
        "cell_id": "cell-a1",
        "by": {"name": "ann", "client_id": None},
        "queued_at": 0.0,
        "state": "queued",
    }
    with pytest.raises(ValueError):
        RunQueue("random")


@given(
    st.lists(st.sampled_from(["ann", "ben", "cat"]), max_size=30), st.sampled_from(["fifo", "fair"])
)
def test_planned_order_is_the_order_things_run(people: list[str], order: str) -> None:
    queue = RunQueue(order)
    queue.add([req(f"r{i}", who) for i, who in enumerate(people)])
    planned = [r.request_id for r in queue.planned()]
    assert drain(queue) == planned
    assert sorted(planned) == sorted(f"r{i}" for i in range(len(people)))
