"""PostgreSQL through asyncpg: what the pool must know of its connections' troubles.

- A database that refuses connections (ALLOW_CONNECTIONS false, a server starting up, shutting
  down or recovering) is passing trouble, answered 503 like one that cannot be reached.
- A connection cut by the server while it waits in the pool (pg_terminate_backend, a restart)
  receives the server's farewell (an error), then its hang-up. Taken from the pool before asyncpg
  has read the hang-up, its first statement failed ("another operation (2) is in progress") and
  with it a request. So a connection whose server has hung up is replaced when it is taken from
  the pool: a look at its socket (no round trip, unlike a ping) that costs a microsecond.
"""
import select

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

ERROR_SIGNS_UNREACHABLE = ("not currently accepting connections", "the database system is starting up",
                           "the database system is shutting down", "the database system is in recovery mode",
                           "the database system is not yet accepting connections")
ERROR_SIGNS_BUSY = ("too many clients already", "remaining connection slots are reserved")

# The server closed its end, or the socket failed (POLLRDHUP is Linux's; elsewhere the others).
HUNG_UP = getattr(select, "POLLRDHUP", 0) | select.POLLHUP | select.POLLERR


def hung_up(connection) -> bool:
    """Whether asyncpg's `connection` is closed, or its server has hung up (not yet read)."""
    if connection.is_closed():
        return True
    sock = connection._transport.get_extra_info("socket") if connection._transport is not None else None
    if sock is None:
        return False
    poll = select.poll()
    poll.register(sock.fileno(), HUNG_UP)
    return any(events & HUNG_UP for _fd, events in poll.poll(0))


def configure(engine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def _replace_hung_up(dbapi_connection, _record, _proxy):
        if hung_up(dbapi_connection.driver_connection):
            raise DisconnectionError("the server closed this connection")  # the pool opens another
