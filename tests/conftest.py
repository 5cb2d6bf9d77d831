"""The two ways to get a hub, as fixtures.

- In process (`app`, `app_factory`): `create_app(Settings(...))` under Starlette's TestClient, on
  a tmp root and data folder. The default for anything about the API, tokens and refusals.
- As a process (`hub`, `hub_factory`, `shared_hub`): `collabd serve` on a free port, for what is
  about the process (kill -9, restarts, kernels, uvicorn's send paths) and for the browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.support.hubproc import HubFactory, HubProcess, new_hub, stop_all
from tests.support.inproc import AppFactory, InProcHub

# No time limit per example: a loaded CI machine (the suite runs in parallel) once took 0.67 s
# over an example that takes 3 ms, and a test must not assert how long something took.
settings.register_profile("collabd", deadline=None)
settings.load_profile("collabd")


@pytest.fixture
def app_factory(tmp_path: Path) -> Iterator[AppFactory]:
    """`app_factory(**settings)`: an in-process hub with those Settings fields."""
    started: list[InProcHub] = []

    def make(**settings: Any) -> InProcHub:
        app = InProcHub(tmp_path / "root", tmp_path / "data", **settings)
        started.append(app)
        return app.start()

    yield make
    for app in reversed(started):
        app.stop()


@pytest.fixture
def app(app_factory: AppFactory) -> InProcHub:
    return app_factory()


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[HubFactory]:
    """`hub_factory(env={"COLLABD_...": ...})`: a started `collabd serve` process."""
    started: list[HubProcess] = []

    def make(env: dict[str, str] | None = None) -> HubProcess:
        hub = new_hub(tmp_path, env)
        started.append(hub)
        return hub.start()

    yield make
    stop_all(started)
    for hub in started:
        hub.check_log()


@pytest.fixture
def hub(hub_factory: HubFactory) -> HubProcess:
    return hub_factory()


@pytest.fixture(scope="module")
def shared_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub process for a module whose tests each use their own session."""
    hub = new_hub(tmp_path_factory.mktemp("shared")).start()
    yield hub
    hub.stop()
    hub.check_log()


@pytest.fixture(scope="module")
def khub(shared_hub: HubProcess) -> HubProcess:
    """The hub of a module whose tests run kernels (starting them is the slow part: one hub,
    one session per test)."""
    return shared_hub


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every browser test says so: `make test-fast` leaves them out by that marker."""
    unmarked = [
        item.nodeid
        for item in items
        if item.nodeid.startswith("tests/e2e/") and item.get_closest_marker("browser") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"tests/e2e tests without the browser marker: {unmarked}")
