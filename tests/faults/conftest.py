from __future__ import annotations

import pytest

from tests.daemon.conftest import daemon, hosting, spawn_daemons  # noqa: F401 - the same fixtures
from tests.faults.fault_support import TmpfsStateDaemon


@pytest.fixture
def tmpfs_daemon(hosting):  # noqa: F811 - the re-exported fixture
    """Make a :class:`TmpfsStateDaemon` (a 4 MiB state tmpfs unless ``size=``); killed at the end,
    and its file system released."""
    spawned = spawn_daemons(hosting, TmpfsStateDaemon, size="4m")
    make = next(spawned)
    made: list[TmpfsStateDaemon] = []

    def tracked(*args, **kw) -> TmpfsStateDaemon:
        made.append(make(*args, **kw))
        return made[-1]

    try:
        yield tracked
    finally:
        spawned.close()  # kills the daemons
        for d in made:
            d.release()
