"""collabd.sync.limits: the per-connection rate limit."""

from __future__ import annotations

from collabd.sync.limits import TokenBucket


def test_token_bucket_allows_bursts_then_the_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)
