from tests.daemon.conftest import daemon, hosting  # noqa: F401 - the same real-daemon fixtures
