"""Errors raised by the metrics package, in one small tree.

    MetricsError
    ├── ConfigError            a setting, duration or rule override is invalid
    ├── StoreError             the SQLite store cannot be used
    │   ├── StoreLockedError   another writer held the lock past the busy timeout
    │   ├── StoreCorruptError  the file is not a readable SQLite database
    │   └── SchemaError        the store was written by a newer metrics schema
    └── AlertError             an alert or silence target does not exist
"""

from __future__ import annotations


class MetricsError(Exception):
    """Base class of every error raised by the metrics package."""


class ConfigError(MetricsError, ValueError):
    """A setting, duration or alert-rule override is invalid."""


class StoreError(MetricsError):
    """The SQLite store cannot be opened, read or written."""


class StoreLockedError(StoreError):
    """Another process kept the database locked for longer than the busy timeout."""


class StoreCorruptError(StoreError):
    """The database file is not a SQLite database or is damaged."""


class SchemaError(StoreError):
    """The store's metrics schema is newer than this version of the package understands."""


class AlertError(MetricsError, LookupError):
    """An alert, rule or silence named by the caller does not exist."""
