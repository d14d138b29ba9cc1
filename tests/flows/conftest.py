"""One Prefect test server for all flow tests (entering it costs ~12 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def artifact_table(key: str) -> list[dict]:
    """The latest table artifact published under ``key``."""
    import json

    from prefect.artifacts import Artifact

    artifact = Artifact.get(key)
    assert artifact is not None, f"no artifact {key}"
    data = artifact.data
    return json.loads(data) if isinstance(data, str) else data
