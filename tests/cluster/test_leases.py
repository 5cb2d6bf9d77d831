"""Ownership leases and fencing, against a real PostgreSQL database (no hub processes)."""

from __future__ import annotations

import time

import pytest

from collabd.cluster.lease import Leases
from collabd.store.base import Fenced, NewEntry, Snapshot
from collabd.store.postgres import PostgresStore


def entry(data: bytes) -> NewEntry:
    return NewEntry(time.time(), "update", "peer:1", data)


def test_one_owner_at_a_time_and_a_stale_owner_cannot_write(pg_url: str) -> None:
    a_store, b_store = PostgresStore(pg_url), PostgresStore(pg_url)  # two hubs' pools
    try:
        a = Leases(a_store.pool, "hub-a", "http://a", ttl=30.0)
        b = Leases(b_store.pool, "hub-b", "http://b", ttl=30.0)
        token_a = a.acquire("room")
        assert token_a is not None
        assert b.acquire("room") is None  # held: nobody else takes it
        owner = b.owner("room")
        assert owner is not None and (owner.node, owner.node_url, owner.live) == (
            "hub-a",
            "http://a",
            True,
        )
        assert a_store.append("room", [entry(b"1")], fence=token_a) == 1
        assert a.renew("room", token_a)
        a.release("room", token_a)  # a graceful hand-over
        token_b = b.acquire("room")
        assert token_b is not None and token_b > token_a
        # the old owner's writes are refused from now on, and nothing of them is stored
        with pytest.raises(Fenced):
            a_store.append("room", [entry(b"stale")], fence=token_a)
        with pytest.raises(Fenced):
            a_store.add_snapshot("room", Snapshot(1, time.time(), b"s"), fence=token_a)
        assert not a.renew("room", token_a)
        assert b_store.append("room", [entry(b"2")], fence=token_b) == 2
        assert [e.data for e in b_store.entries("room")] == [b"1", b"2"]
        assert b.owned() == ["room"] and a.owned() == []
    finally:
        a_store.close()
        b_store.close()


def test_an_expired_lease_is_taken_over_and_fences_its_old_holder(pg_url: str) -> None:
    a_store, b_store = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        a = Leases(a_store.pool, "hub-a", "http://a", ttl=0.2)
        b = Leases(b_store.pool, "hub-b", "http://b", ttl=30.0)
        token_a = a.acquire("room")
        assert token_a is not None
        deadline = time.monotonic() + 10
        token_b = None
        while token_b is None and time.monotonic() < deadline:  # a stops renewing: it lapses
            token_b = b.acquire("room")
            time.sleep(0.05)
        assert token_b is not None
        owner = a.owner("room")
        assert owner is not None and owner.node == "hub-b"
        with pytest.raises(Fenced):
            a_store.append("room", [entry(b"late")], fence=token_a)
        assert b_store.entries("room") == []
    finally:
        a_store.close()
        b_store.close()


def test_unfenced_writes_and_other_rooms_are_not_affected(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        leases = Leases(store.pool, "hub-a", "http://a", ttl=30.0)
        token = leases.acquire("one")
        assert token is not None
        assert store.append("two", [entry(b"x")]) == 1  # a single hub passes no fence
        assert store.append("one", [entry(b"y")], fence=token) == 1
        with pytest.raises(Fenced):
            store.append("one", [entry(b"z")], fence=token + 1)
    finally:
        store.close()
