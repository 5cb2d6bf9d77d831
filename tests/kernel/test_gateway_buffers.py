"""Messages with binary buffers (ipywidgets') both ways through a real `jupyter kernelgateway`:
a comm in the kernel echoes what it is sent, buffers included."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from collabd.kernel.base import KernelMessage
from collabd.kernel.gateway import GatewayKernel
from collabd.kernel.hosts import KernelHost
from tests.support.gateway import running_gateway
from tests.support.kernel import WAIT

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ECHO_TARGET = """
def _echo(comm, open_msg):
    comm.send({"opened": open_msg["content"]["data"]}, buffers=open_msg["buffers"])

    @comm.on_msg
    def _reply(msg):
        comm.send({"echo": msg["content"]["data"]}, buffers=msg["buffers"])

get_ipython().kernel.comm_manager.register_target("echo", _echo)
"""


async def comm_reply(kernel: GatewayKernel, comm_id: str) -> KernelMessage:
    async with asyncio.timeout(WAIT):
        while True:
            message = await kernel.receive(1.0)
            if (
                message is not None
                and message.msg_type == "comm_msg"
                and message.content.get("comm_id") == comm_id
            ):
                return message


async def test_a_comm_echoes_binary_buffers_through_the_gateway() -> None:
    with running_gateway() as gateway:
        kernel = GatewayKernel("python3", KernelHost("gpu", gateway.url, gateway.token))
        await kernel.start()
        try:
            await kernel.request("execute_request", {"code": ECHO_TARGET, "silent": False}, WAIT)
            comm_id = uuid.uuid4().hex
            opening = bytes(range(256)) * 4
            await kernel.send(
                "comm_open",
                {"comm_id": comm_id, "target_name": "echo", "data": {"hello": 1}},
                [opening],
            )
            opened = await comm_reply(kernel, comm_id)
            assert opened.content["data"] == {"opened": {"hello": 1}}
            assert opened.buffers == (opening,)

            big, empty, small = b"\x00\xff" * 500_000, b"", b"\x7f"
            msg_id = await kernel.send(
                "comm_msg", {"comm_id": comm_id, "data": {"method": "update"}}, [big, empty, small]
            )
            echo = await comm_reply(kernel, comm_id)
            assert echo.parent_id == msg_id
            assert echo.content["data"] == {"echo": {"method": "update"}}
            assert echo.buffers == (big, empty, small)

            await kernel.send("comm_msg", {"comm_id": comm_id, "data": {"plain": True}})
            plain = await comm_reply(kernel, comm_id)
            assert plain.content["data"] == {"echo": {"plain": True}} and plain.buffers == ()
        finally:
            await kernel.shutdown()
        assert gateway.kernel_ids() == []
