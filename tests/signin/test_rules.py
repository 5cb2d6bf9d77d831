"""The pure rules of sign-in: whose header is believed, a user's role from grants, who owns."""

from __future__ import annotations

import pytest

from collabd.auth import Access, User, owns, user_access
from collabd.signin.proxies import TrustedHeader, networks, trusted
from collabd.store import GrantRecord


def test_only_the_configured_proxies_are_trusted() -> None:
    allowed = networks(("127.0.0.1", "10.1.0.0/16", "::1"))
    assert trusted("127.0.0.1", allowed)
    assert trusted("::ffff:127.0.0.1", allowed)  # an IPv4 peer on a dual-stack socket
    assert trusted("10.1.200.3", allowed) and trusted("::1", allowed)
    assert not trusted("127.0.0.2", allowed) and not trusted("10.2.0.1", allowed)
    assert not trusted("testclient", allowed) and not trusted(None, allowed)
    assert not trusted("127.0.0.1", networks(()))  # no proxies: nobody's header
    with pytest.raises(ValueError, match="not an address"):
        networks(("127.0.0.1", "proxy.local"))


def test_the_header_gives_a_clean_name_and_the_admin_flag() -> None:
    header = TrustedHeader("X-Forwarded-User", ("127.0.0.1",), ("root",))
    assert header.user({"x-forwarded-user": " alice "}, "127.0.0.1") == User("alice")
    assert header.user({"x-forwarded-user": "root"}, "127.0.0.1") == User("root", admin=True)
    assert header.user({"x-forwarded-user": "a\nb"}, "127.0.0.1") is None
    assert header.user({"x-forwarded-user": ""}, "127.0.0.1") is None
    assert header.user({}, "127.0.0.1") is None
    assert header.user({"x-forwarded-user": "alice"}, "127.0.0.9") is None


def test_a_users_role_is_the_highest_of_theirs_and_their_groups() -> None:
    def grant(kind: str, name: str, role: str) -> GrantRecord:
        return GrantRecord("s", kind, name, role, 1.0)

    grants = [grant("user", "ann", "view"), grant("group", "staff", "owner"),
              grant("group", "class", "edit"), grant("user", "staff", "edit")]  # fmt: skip
    assert user_access(User("ann"), grants) is Access.VIEW
    assert user_access(User("ann", groups=("class",)), grants) is Access.EDIT
    assert user_access(User("ann", groups=("class", "staff")), grants) is Access.OWNER
    assert user_access(User("bob", groups=("other",)), grants) is None
    # A user named like a group is not in it (nor a group member the user of that name).
    assert user_access(User("class"), grants) is None


def test_who_owns_a_session() -> None:
    assert owns(Access.ADMIN, by_token=True, signin=True)
    assert owns(Access.OWNER, by_token=False, signin=True)
    # Token-only setups keep 0.2's rule: an edit link manages the session's links.
    assert owns(Access.EDIT, by_token=True, signin=False)
    assert not owns(Access.EDIT, by_token=True, signin=True)
    assert not owns(Access.EDIT, by_token=False, signin=True)
    assert not owns(Access.VIEW, by_token=True, signin=False)


def test_jupyterhub_sign_in_needs_the_services_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from collabd.signin.hubauth import HubSignIn

    for name in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="JUPYTERHUB_API_TOKEN and JUPYTERHUB_CLIENT_ID"):
        HubSignIn()


def test_a_jupyterhub_service_is_served_under_its_prefix() -> None:
    from collabd.settings import Settings

    env = {"COLLABD_JUPYTERHUB": "1", "JUPYTERHUB_SERVICE_PREFIX": "/services/collabd/"}
    settings = Settings(host="127.0.0.1", port=9).with_env(env)
    assert settings.jupyterhub and settings.signin
    assert settings.prefix == "/services/collabd"
    assert settings.base_url == "http://127.0.0.1:9/services/collabd"
    # Not a service: the hub's variables alone change nothing (a terminal in a user's server).
    plain = Settings().with_env({"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"})
    assert plain.prefix == "" and not plain.signin
    # An explicit BASE_PATH wins; proxies and admins are lists.
    more = {
        "COLLABD_BASE_PATH": "collab",
        "COLLABD_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16",
        "COLLABD_ADMIN_USERS": "root,ada",
    }
    mine = Settings().with_env({**env, **more})
    assert mine.prefix == "/collab"
    assert mine.trusted_proxies == ("10.0.0.1", "10.1.0.0/16")
    assert mine.admin_users == ("root", "ada")
