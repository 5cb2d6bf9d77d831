"""Finding 3 (high, partial): kernel code cannot read the hub's secrets from its environment,
and the data folder is private (a real ipykernel run through a real hub)."""

from __future__ import annotations

import json

import pytest

from collabd.client import NotebookClient
from collabd.kernel.local import kernel_env
from tests.support.hubproc import TOKEN, HubFactory
from tests.support.kernel import new_cells, wait_finished

pytestmark = [pytest.mark.kernel]

HUB_ENV = {
    "COLLABD_TOKEN": "env-admin-token-0123456789",
    "COLLABD_RECORD": "on",
    "GITHUB_TOKEN": "ghp-not-for-kernels",
    "AWS_SECRET_ACCESS_KEY": "aws-not-for-kernels",
    "DB_PASSWORD": "hunter2-not-for-kernels",
    "INNOCENT_NAME": TOKEN,  # the admin token (given with --token) under another name
    "KEPT_FOR_KERNELS": "yes",
}

PROBE = """
import json, os, stat
values = "\\n".join(os.environ.values())
print(json.dumps({
    "collabd": sorted(k for k in os.environ if k.upper().startswith("COLLABD_")),
    "leaked": [v for v in %s if v in values],
    "kept": os.environ.get("KEPT_FOR_KERNELS"),
    "data_mode": oct(stat.S_IMODE(os.stat(%r).st_mode)),
}))
"""


def test_kernel_env_filter() -> None:
    env = kernel_env(
        {"PATH": "/bin", "COLLABD_X": "1", "collabd_y": "1", "MY_TOKEN": "t", "X": "s3"},
        secrets=("s3",),
    )
    assert env == {"PATH": "/bin"}


async def test_kernel_code_cannot_read_the_hubs_secrets(hub_factory: HubFactory) -> None:
    hub = hub_factory(HUB_ENV)
    s = hub.create_session("env.ipynb")
    secrets = [v for k, v in HUB_ENV.items() if k not in ("KEPT_FOR_KERNELS", "COLLABD_RECORD")]
    code = PROBE % (json.dumps(secrets), str(hub.data))
    async with NotebookClient(hub.base, s["id"], s["edit_token"], name="probe") as nb:
        (cell,) = await new_cells(nb, code)
        await nb.run(cell)
        run = await wait_finished(nb, cell)
        assert run["status"] == "ok", nb.output_text(cell)
        report = json.loads(nb.output_text(cell).strip().splitlines()[-1])
    assert report == {"collabd": [], "leaked": [], "kept": "yes", "data_mode": "0o700"}
