import pytest

from catalog.scrape.client import RetryPolicy
from tests.catalog.scrape.replay_server import Fault, ReplayServer

#: Tiny delays so retries cost milliseconds; 4 attempts like the default.
#: The timeout is generous enough that a loaded machine does not cause spurious retries; timeout faults sleep 1.5 s.
FAST = RetryPolicy(attempts=4, base_delay=0.005, max_delay=0.02, timeout=1.0, max_retry_after=5.0)
TIMEOUT_FAULT_DELAY = 1.5


def standard_faults() -> list[Fault]:
    """One of every transient fault (the run recovers from all) and one permanent one (title 109 always HTML)."""
    return [
        Fault("429", "/api/webtoon/titlelist/weekday?order=user", retry_after="0"),
        Fault("500", "info?titleId=101", times=2),
        Fault("timeout", "info?titleId=102", delay=TIMEOUT_FAULT_DELAY),
        Fault("html", "info?titleId=104"),
        Fault("html", "info?titleId=109", times=None),
        Fault("503", "finished?page=2"),
        Fault("429", "info?titleId=202", retry_after="0"),
        Fault("truncate", "/webtoon/103/thumbnail/"),
        Fault("cut", "/webtoon/104/thumbnail/"),
        Fault("502", "/webtoon/201/thumbnail/"),
    ]


@pytest.fixture
async def replay():
    """Factory: ``await replay(dataset=None, faults=None, latency=0)`` → a started :class:`ReplayServer`."""
    servers: list[ReplayServer] = []

    async def start(dataset=None, faults=None, latency: float = 0.0) -> ReplayServer:
        server = ReplayServer(dataset, faults, latency)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()
