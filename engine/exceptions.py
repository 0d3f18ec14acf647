"""Every error the engine raises on purpose.

    CodebotError            anything the CLI turns into exit code 2
    ├── UsageError          a bad option, path or setting
    │   ├── ConfigError     a bad value in [tool.codebot]
    │   └── StaleIndexError a clone's file changed since the scan that found it
    ├── ClusterError        the Dask cluster failed during a scan (nothing is saved)
    ├── RefactorRefusedError  no refactoring keeps the behaviour: the message says why (exit 1)
    └── StoreError          the index database cannot be used
        ├── CorruptStoreError   the file is not an SQLite database: refused, untouched
        │   └── DamagedIndexError   an SQLite index with damage inside: healed by a rebuild
        ├── ForeignIndexError   an SQLite database of another application (without --force)
        └── StoreLockedError    another scan holds the write lock too long
"""
from __future__ import annotations


class CodebotError(Exception):
    """Base class: a failure with a message that says what to fix."""


class UsageError(CodebotError):
    """A bad command-line option, path or setting."""


class ConfigError(UsageError):
    """A bad value in the `[tool.codebot]` table of pyproject.toml."""


class StaleIndexError(UsageError):
    """A file of a clone is not what the index saw: scan again before refactoring."""


class ClusterError(CodebotError):
    """The Dask cluster lost the scan's work (workers gone, scheduler lost): the index keeps
    the previous scan."""


class RefactorRefusedError(CodebotError):
    """The clone cannot be refactored without changing what the code does; the message says why."""


class StoreError(CodebotError):
    """The index database cannot be opened, read or written."""


class CorruptStoreError(StoreError):
    """The database file exists but is not a readable CodeBot index."""


class DamagedIndexError(CorruptStoreError):
    """An SQLite index whose pages or fingerprint blobs fail to read: a cache to rebuild."""


class ForeignIndexError(StoreError):
    """A non-empty SQLite database that CodeBot did not create."""


class StoreLockedError(StoreError):
    """Another process held the database's write lock past the timeout."""
