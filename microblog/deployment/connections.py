"""At most MAX_CONNECTIONS open connections per worker, below its limit of open files.

Hypercorn 0.18 accepts every connection it is offered, and keeps one whose request's body never
comes until Quart's BODY_TIMEOUT. About 2,000 of them (a worker's usual limit is 1,024 files)
left it unable to accept anything, or to open a file or a database connection: every request
failed. Past the cap, the connection that has waited longest for its client (a request, or the
rest of a body) is closed to make room; when every connection is busy with a request of ours, the
new one is answered 503 at once. Behind nginx the app never sees a slow client (docs/vps.md).

Hypercorn has no setting for it: its accept callback builds a `TCPServer` for each connection,
looked up in `hypercorn.asyncio.run` each time, so `limit_connections` puts a counting one there.
"""
import logging
import os
import resource
import time

import h11
import hypercorn.asyncio.run as hypercorn_run
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.events import Updated

log = logging.getLogger("microblog.serve")

FILES_FOR_THE_APP = 128  # database connections, SQLite's files, logs, the search index, the loop's own
WARN_EVERY_SECONDS = 60
BUSY_TEXT = b"The site is busy. Please try again in a moment.\n"
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(BUSY_TEXT), BUSY_TEXT))


def connection_cap(setting: int) -> int:
    """MAX_CONNECTIONS (0: as many as the file limit leaves), never more than that leaves."""
    files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    most = max(files - FILES_FOR_THE_APP, 16) if files != resource.RLIM_INFINITY else setting or 4096
    if setting > most:
        log.warning("MAX_CONNECTIONS=%d is more than the file limit (%d) leaves: %d", setting, files, most)
    return min(setting, most) if setting else most


def limit_connections(limit: int) -> None:
    CountedTCPServer.limit = limit
    hypercorn_run.TCPServer = CountedTCPServer


class CountedTCPServer(TCPServer):
    limit = 0
    open: dict["CountedTCPServer", None] = {}  # this worker's, in the order they came
    warned = float("-inf")

    async def run(self) -> None:
        self.in_request, self.since = False, time.monotonic()
        if len(self.open) >= self.limit and not self._make_room():
            self.writer.write(BUSY)
            self.writer.close()
            return
        self.open[self] = None
        try:
            await super().run()
        finally:
            self.open.pop(self, None)

    async def protocol_send(self, event) -> None:
        if isinstance(event, Updated):  # a request has come (idle=False), or been answered
            self.in_request, self.since = not event.idle, time.monotonic()
        await super().protocol_send(event)

    def waits_for_its_client(self) -> bool:
        """Between requests (or before the first, or in the middle of its head), or waiting for
        the rest of a request's body."""
        if not self.in_request:
            return True
        protocol = getattr(getattr(self, "protocol", None), "protocol", None)  # HTTP/1.1's or HTTP/2's
        return getattr(getattr(protocol, "connection", None), "their_state", None) is h11.SEND_BODY

    def _make_room(self) -> bool:
        waiting = [connection for connection in self.open if connection.waits_for_its_client()]
        now = time.monotonic()
        if now - CountedTCPServer.warned > WARN_EVERY_SECONDS:
            CountedTCPServer.warned = now
            log.warning("worker %d: MAX_CONNECTIONS (%d) connections open: %s", os.getpid(), self.limit,
                        "closing those that waited longest for their clients" if waiting
                        else "none waits for its client, new ones are answered 503")
        if not waiting:
            return False
        oldest = min(waiting, key=lambda connection: connection.since)
        del self.open[oldest]
        oldest.writer.close()  # its own task sees the end, as when a client hangs up
        return True
