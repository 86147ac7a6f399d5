"""The store's error, in a module of its own: the command line catches it around every command,
and importing it must not import SQLAlchemy and Alembic (most of a second for `monitor match`)."""


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message is one line without secrets."""
