"""collabd.settings: COLLABD_<NAME> variables."""

from __future__ import annotations

import pytest

from collabd.settings import Settings


def test_settings_from_environment() -> None:
    s = Settings().with_env(
        {
            "COLLABD_MAX_MESSAGE_BYTES": "10",
            "COLLABD_RECORD": "off",
            "COLLABD_ALLOWED_ORIGINS": "https://a, https://b",
        }
    )
    assert s.max_message_bytes == 10 and s.record is False
    assert s.allowed_origins == ("https://a", "https://b")
    with pytest.raises(ValueError, match="COLLABD_RATE_BURST"):
        Settings().with_env({"COLLABD_RATE_BURST": "lots"})
