"""The database: one module owns the engine, sessions and transactions.

Views and services never open connections themselves: they receive a
``Session`` from :meth:`Database.session`. SQLite (default) and PostgreSQL
(``postgresql+psycopg://``) behave the same behind it.
"""

from questlab.db.core import Database, upgrade

__all__ = ["Database", "upgrade"]
