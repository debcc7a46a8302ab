"""Engine, session scope and Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT_S = 3
"""Seconds a new PostgreSQL connection may take (libpq ``connect_timeout``) before it fails."""
POOL_TIMEOUT_S = 5
"""Seconds a request waits for a pooled connection when every one is in use before it fails."""


def make_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine for ``url``.

    SQLite gets foreign keys on, a busy timeout of 5 s, and WAL journaling so
    readers never wait for the single writer; its parent folder is created.
    PostgreSQL gets a pool whose connections are pinged before use (so a restarted server is
    reconnected to without restarting questlab), a connect timeout of :data:`CONNECT_TIMEOUT_S`
    and a pool checkout timeout of :data:`POOL_TIMEOUT_S` (so an unreachable server is an error
    within seconds, not a hang).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


def alembic_config(url: str) -> Config:
    """Return an Alembic config that points at questlab's migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations to ``url`` up to ``revision`` (default: the newest).

    Raises:
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    make_engine(url).dispose()  # creates the SQLite file's folder
    command.upgrade(alembic_config(url), revision)


class Database:
    """The application's database handle.

    Args:
        url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session inside one transaction: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def is_current(self) -> bool:
        """Whether the schema is at the newest migration (``questlab db upgrade`` was run)."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        heads = set(ScriptDirectory.from_config(alembic_config(self.url)).get_heads())
        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        return current == heads

    def table_names(self) -> list[str]:
        """Names of the tables in the database."""
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
