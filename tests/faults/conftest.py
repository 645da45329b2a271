from __future__ import annotations

import pytest

from tests.daemon.conftest import daemon, hosting  # noqa: F401 - the same real-daemon fixtures
from tests.faults.fault_support import TmpfsStateDaemon


@pytest.fixture
def tmpfs_daemon(hosting):  # noqa: F811 - the re-exported fixture
    """Make a :class:`TmpfsStateDaemon` on the ``hosting`` tree; killed at the end of the test."""
    procs: list[TmpfsStateDaemon] = []

    def make(size: str = "4m", roots: list[str] | None = None, **kw) -> TmpfsStateDaemon:
        d = TmpfsStateDaemon(hosting, roots or [f"{hosting}/home/*/public_html"], size=size, **kw)
        procs.append(d)
        return d

    yield make
    for d in procs:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
