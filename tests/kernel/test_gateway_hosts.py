"""Kernel hosts parsed and validated, secrets never shown, and the choice's kernel id trusted
only when this hub signed it for this session (pure: no processes)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pycrdt import Doc, Map

from collabd.kernel import inflight
from collabd.kernel.choice import (
    HostFactory,
    KernelChoice,
    UnavailableKernel,
    attach_mac,
    read_choice,
    reattachable,
    set_choice,
)
from collabd.kernel.gateway import GatewayKernel
from collabd.kernel.hosts import (
    LOCAL,
    HostsError,
    KernelHost,
    kernel_start_body,
    parse_hosts,
    redact,
)
from collabd.kernel.queue import RunRequest

GPU = {"name": "gpu", "url": "https://gpu.example:8888/gw/", "token": "s3cret"}


def test_local_is_always_there_and_hosts_keep_their_order() -> None:
    assert list(parse_hosts(None)) == [LOCAL]
    assert list(parse_hosts("  ")) == [LOCAL]
    other = {"name": "cloud", "url": "http://10.0.0.2:8888", "description": "the big one"}
    hosts = parse_hosts(json.dumps([GPU, other]))
    assert list(hosts) == [LOCAL, "gpu", "cloud"]
    assert hosts["gpu"].url == "https://gpu.example:8888/gw" and hosts["gpu"].token == "s3cret"
    assert hosts["cloud"].token is None and hosts["cloud"].public() == {
        "name": "cloud",
        "description": "the big one",
    }


def test_hosts_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps([GPU]))
    assert list(parse_hosts(f"@{path}")) == [LOCAL, "gpu"]
    with pytest.raises(HostsError, match="cannot be read"):
        parse_hosts(f"@{tmp_path / 'missing.json'}")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("{", "not JSON"),
        ('{"name": "gpu"}', "must be a JSON list"),
        ("[1]", "entry 1: must be an object"),
        ('[{"name": "gpu"}]', '"url"'),
        ('[{"name": "g p u", "url": "http://x"}]', '"name"'),
        ('[{"name": "local", "url": "http://x"}]', "the hub's own host"),
        ('[{"name": "a", "url": "http://x"}, {"name": "a", "url": "http://y"}]', "used twice"),
        ('[{"name": "a", "url": "ftp://x"}]', "http:// or https://"),
        ('[{"name": "a", "url": "http://x?token=1"}]', "no query"),
        ('[{"name": "a", "url": "http://x", "token": ""}]', '"token"'),
        ('[{"name": "a", "url": "http://x", "tokn": "t"}]', "unknown keys"),
        ('[{"name": "a", "url": "http://x", "cwd": "work"}]', '"cwd" must be an absolute'),
        ('[{"name": "a", "url": "http://x", "cwd": 7}]', '"cwd" must be an absolute'),
    ],
)
def test_bad_hosts_are_refused_with_where_and_why(raw: str, says: str) -> None:
    with pytest.raises(HostsError, match="COLLABD_KERNEL_HOSTS") as err:
        parse_hosts(raw)
    assert says in str(err.value)


def test_secrets_are_never_shown() -> None:
    host = parse_hosts(json.dumps([GPU]))["gpu"]
    assert "s3cret" not in repr(host) and "gpu.example" not in repr(host)
    text = redact(f"GET {host.url}/api/kernels failed (token s3cret) at gpu.example:8888", host)
    assert "s3cret" not in text and "gpu.example" not in text and "<gpu>" in text


def test_the_kernel_is_asked_to_work_in_the_notebooks_folder() -> None:
    plain = parse_hosts(json.dumps([GPU]))["gpu"]
    assert kernel_start_body(plain, "python3", "course/week1") == {
        "name": "python3",
        "path": "course/week1",
    }
    for root in ("", "."):
        assert kernel_start_body(plain, "python3", root) == {"name": "python3", "path": ""}
    for outside in ("../etc", "/etc"):  # never below the root: the root itself
        assert kernel_start_body(plain, "python3", outside)["path"] == ""
    mapped = parse_hosts(json.dumps([{**GPU, "cwd": "/srv/notebooks/"}]))["gpu"]
    assert kernel_start_body(mapped, "ir", "course/week1") == {
        "name": "ir",
        "path": "course/week1",
        "env": {"KERNEL_WORKING_DIR": "/srv/notebooks/course/week1"},
    }
    assert kernel_start_body(mapped, "ir", "")["env"] == {"KERNEL_WORKING_DIR": "/srv/notebooks"}


class FakeLive:
    def __init__(self, doc: Doc[Any], room_id: str = "room-1") -> None:
        self.doc, self.id, self.closed = doc, room_id, False

    def change(self, origin: str, edit: Any) -> None:
        edit(self.doc)


def new_doc() -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc["state"] = Map()
    return doc


def test_the_factory_follows_the_choice_and_trusts_only_signed_kernel_ids() -> None:
    hosts = {LOCAL: KernelHost(LOCAL), "gpu": KernelHost("gpu", "http://127.0.0.1:9", "t")}
    doc = new_doc()
    live = FakeLive(doc)
    made: list[tuple[str, Path]] = []

    def local(name: str, cwd: Path) -> Any:
        made.append((name, cwd))
        return SimpleNamespace(name=name)

    factory = HostFactory(live, hosts, local, key="admin-token")  # type: ignore[arg-type]
    factory("from-metadata", Path("/nb"))
    assert made == [("from-metadata", Path("/nb"))]

    set_choice(doc, KernelChoice("gpu", "python3"))
    kernel = factory("from-metadata", Path("/nb"))
    assert isinstance(kernel, GatewayKernel) and kernel.name == "python3" and kernel.host == "gpu"
    assert kernel.kernel_id is None

    signed = attach_mac("admin-token", "room-1", "gpu", "k-1")
    set_choice(doc, KernelChoice("gpu", "python3", "k-1", signed))
    assert factory("x", Path("/nb")).kernel_id == "k-1"  # type: ignore[attr-defined]
    other_room = attach_mac("admin-token", "room-2", "gpu", "k-1")
    set_choice(doc, KernelChoice("gpu", "python3", "k-1", other_room))
    assert factory("x", Path("/nb")).kernel_id is None  # type: ignore[attr-defined]

    set_choice(doc, KernelChoice("mars", "python3"))
    unavailable = factory("x", Path("/nb"))
    assert isinstance(unavailable, UnavailableKernel) and "'mars' is not configured" in (
        unavailable.reason
    )

    set_choice(doc, KernelChoice("gpu", "python3"))
    factory._remember(KernelChoice("gpu", "python3"))("k-2", "ws-session-2")
    kept = read_choice(doc)
    assert kept is not None and kept.kernel_id == "k-2" and kept.session == "ws-session-2"
    assert kept.attach == attach_mac("admin-token", "room-1", "gpu", "k-2")
    again = factory("x", Path("/nb"))
    assert isinstance(again, GatewayKernel) and again.kernel_id == "k-2"
    assert again._session.session == "ws-session-2"  # the gateway replays what it kept for it


def test_only_a_kept_kernel_on_a_host_is_one_to_re_attach_to() -> None:
    # a reloaded session starts such a kernel at once when it had live widgets (to revive them)
    assert reattachable(KernelChoice("gpu", "python3", "k-1", "mac"))
    assert not reattachable(KernelChoice("gpu", "python3"))  # never started there
    assert not reattachable(KernelChoice("gpu", "python3", "k-1", None))  # not signed
    assert not reattachable(KernelChoice("local", "python3", "k-1", "mac"))
    assert not reattachable(None)


def test_a_run_in_flight_is_kept_only_for_a_signed_kernel_and_followed_only_if_signed() -> None:
    hosts = {LOCAL: KernelHost(LOCAL), "gpu": KernelHost("gpu", "http://127.0.0.1:9", "t")}
    doc = new_doc()
    factory = HostFactory(FakeLive(doc), hosts, lambda n, c: None, key="k")  # type: ignore[arg-type]
    set_choice(doc, KernelChoice("gpu", "python3"))
    factory._remember(KernelChoice("gpu", "python3"))("k-1", "ws-1")
    kernel = factory("x", Path("/nb"))
    assert isinstance(kernel, GatewayKernel) and kernel.kernel_id == "k-1"
    request = RunRequest("r-1", "cell-1", "print(1)", {"name": "ann"}, 1.0)
    local = SimpleNamespace(name="python3")  # a local kernel: its runs die with the hub
    inflight.record(doc, local, "m-1", request, 2.0)  # type: ignore[arg-type]
    assert inflight.read(doc) is None
    inflight.record(doc, kernel, "m-1", request, 2.0)
    found = inflight.read(doc)
    assert found is not None and (found.msg_id, found.cell_id, found.started) == (
        "m-1",
        "cell-1",
        2.0,
    )
    assert not inflight.resumable(kernel, found)  # started afresh, not re-attached
    kernel.attached = True
    assert inflight.resumable(kernel, found)
    forged = dataclasses.replace(found, cell_id="cell-2")  # an editor pointed it elsewhere
    assert not inflight.resumable(kernel, forged)
    factory._remember(KernelChoice("gpu", "python3"))("k-1", "ws-1")  # the same kernel again
    assert inflight.read(doc) == found
    inflight.clear(doc)
    assert inflight.read(doc) is None and read_choice(doc) is not None
