"""A session's links, as far as the caller's access goes (edit links only for editors)."""

from __future__ import annotations

from typing import Any

from collabd.auth import Access, can_edit
from collabd.hub import Hub
from collabd.store import SessionRecord


def links(hub: Hub, record: SessionRecord, access: Access) -> dict[str, Any]:
    base = hub.settings.base_url
    result: dict[str, Any] = {
        "id": record.id,
        "path": record.path,
        "created": record.created,
        "role": str(access),
        "view_url": f"{base}/s/{record.id}#token={record.view_token}",
        "replay_url": f"{base}/s/{record.id}/replay#token={record.view_token}",
        "ws_url": f"{base.replace('http', 'ws', 1)}/ws/{record.id}",
    }
    if can_edit(access):
        result.update(
            edit_token=record.edit_token,
            view_token=record.view_token,
            edit_url=f"{base}/s/{record.id}#token={record.edit_token}",
        )
    return result
