"""MariaDB (and MySQL) through asyncmy: what differs from PostgreSQL, in one place.

- Times: DATETIME keeps whole seconds unless declared DATETIME(6); every DateTime column gets
  microseconds, in the models and in the migrations alike (a compile rule, not a column type).
- Case-insensitive unique nicknames are an index on lower(nickname) elsewhere. MariaDB has no
  indexes on expressions, but its default collation (utf8mb4_general_ci) compares without case:
  a unique index on the column itself is the same rule there.
- Each connection: READ COMMITTED (as PostgreSQL: a worker sees what another committed), UTC,
  and the statement and lock timeouts that keep passing trouble from hanging a request.
"""
import logging
import re

from sqlalchemy import DateTime, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex, DropIndex
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.functions import FunctionElement

DIALECT = "mysql"  # SQLAlchemy's name for MySQL and MariaDB alike
ERROR_SIGNS_BUSY = ("lock wait timeout", "max_statement_time", "deadlock found", "query execution was interrupted")
ERROR_SIGNS_UNREACHABLE = ("can't connect", "lost connection", "server has gone away")


@compiles(DateTime, DIALECT)
def _datetime_with_microseconds(type_, compiler, **kw):
    return "DATETIME(6)"


def _plain_column(expression):
    """`lower(nickname)` (a function or text) → the column `nickname`, a column → itself; None
    for anything else."""
    if isinstance(expression, ColumnClause):
        return expression
    if isinstance(expression, FunctionElement) and expression.name.lower() == "lower":
        inner = list(expression.clauses)
        return inner[0] if len(inner) == 1 and isinstance(inner[0], ColumnClause) else None
    # A migration's sa.text("lower(nickname)"), however Alembic wrapped it.
    found = re.fullmatch(r"\s*lower\(\s*(\w+)\s*\)\s*", str(getattr(expression, "text", expression)), re.I)
    return ColumnClause(found.group(1)) if found else None


@compiles(CreateIndex, DIALECT)
def _create_index(create, compiler, **kw):
    index = create.element
    columns = [_plain_column(e) for e in index.expressions]
    if not columns or any(c is None for c in columns):
        return compiler.visit_create_index(create, **kw)
    preparer = compiler.preparer
    names = ", ".join(preparer.quote(c.name) for c in columns)
    unique = "UNIQUE " if index.unique else ""
    return f"CREATE {unique}INDEX {preparer.quote(index.name)} ON {preparer.format_table(index.table)} ({names})"


def configure(engine, statement_timeout_ms: int, lock_timeout_ms: int) -> None:
    settings = ["time_zone = '+00:00'"]
    if statement_timeout_ms:
        settings.append(f"max_statement_time = {statement_timeout_ms / 1000:.3f}")
    if lock_timeout_ms:
        seconds = max(1, round(lock_timeout_ms / 1000))  # whole seconds only
        settings += [f"innodb_lock_wait_timeout = {seconds}", f"lock_wait_timeout = {seconds}"]

    @event.listens_for(engine.sync_engine, "connect")
    def _session_settings(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION " + ", ".join(settings))
        cursor.close()


# asyncmy logs each server warning (a duplicate an INSERT IGNORE skipped, a constraint name MariaDB
# ignores) as a WARNING of its own: expected, and not the app's to report.
logging.getLogger("asyncmy").setLevel(logging.ERROR)
