"""A session's links, as far as the caller's access goes (edit links only for editors)."""

from __future__ import annotations

from typing import Any

from collabd.auth import Access, Caller, can_edit
from collabd.hub import Hub
from collabd.store import SessionRecord


def session_url(hub: Hub, record: SessionRecord, token: str, page: str = "") -> str:
    return f"{hub.settings.base_url}/s/{record.id}{page}#token={token}"


def links(
    hub: Hub, record: SessionRecord, access: Access, caller: Caller | None = None, token: str = ""
) -> dict[str, Any]:
    """The anonymous links go to the admin and to anonymous editors (and the view link to
    anonymous viewers). Someone who came with a named link (`caller.link`, its `token`) gets
    their own link back, never the anonymous edit link, so that revoking theirs shuts them out;
    a named editor, an owner, also gets the anonymous view link to share."""
    if caller is not None and caller.user is not None and caller.link is None and not token:
        return _for_user(hub, record, caller)
    base = hub.settings.base_url
    named = caller.link if caller is not None else None
    view_token = token if named is not None and named.role == "view" else record.view_token
    result: dict[str, Any] = {
        "id": record.id,
        "path": record.path,
        "created": record.created,
        "role": str(access),
        "view_url": session_url(hub, record, view_token),
        "replay_url": session_url(hub, record, view_token, "/replay"),
        "ws_url": f"{base.replace('http', 'ws', 1)}/ws/{record.id}",
    }
    if named is not None:
        result["link"] = {
            "id": named.id,
            "name": named.name,
            "role": named.role,
            "expires": named.expires,
        }
        if named.role == "edit":
            result.update(view_token=record.view_token)
    elif can_edit(access):
        result.update(
            edit_token=record.edit_token,
            view_token=record.view_token,
            edit_url=session_url(hub, record, record.edit_token),
        )
    return result


def _for_user(hub: Hub, record: SessionRecord, caller: Caller) -> dict[str, Any]:
    """A signed-in user's view of a session: its address with no token (they come in by their
    sign-in) and their role; its owners also get the anonymous links, its editors the anonymous
    view link (as a named editor does), to share."""
    base = hub.settings.base_url
    result: dict[str, Any] = {
        "id": record.id,
        "path": record.path,
        "created": record.created,
        "role": str(caller.access),
        "owner": caller.owner,
        "url": f"{base}/s/{record.id}",
        "replay_url": f"{base}/s/{record.id}/replay",
        "ws_url": f"{base.replace('http', 'ws', 1)}/ws/{record.id}",
        "view_url": f"{base}/s/{record.id}",
    }
    if can_edit(caller.access):
        result["view_url"] = session_url(hub, record, record.view_token)
    if caller.owner:
        result.update(
            edit_token=record.edit_token,
            view_token=record.view_token,
            edit_url=session_url(hub, record, record.edit_token),
            view_url=session_url(hub, record, record.view_token),
        )
    return result
