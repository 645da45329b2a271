from __future__ import annotations

import pytest

from tests.daemon.conftest import daemon, hosting, spawn_daemons  # noqa: F401 - the same fixtures
from tests.faults.fault_support import TmpfsStateDaemon


@pytest.fixture
def tmpfs_daemon(hosting):  # noqa: F811 - the re-exported fixture
    """Make a :class:`TmpfsStateDaemon` (a 4 MiB state tmpfs unless ``size=``); killed at the end."""
    yield from spawn_daemons(hosting, TmpfsStateDaemon, size="4m")
