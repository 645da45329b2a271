"""One exception family. Every message is written for the operator who reads it."""

from __future__ import annotations


class FimError(Exception):
    """Base of every error fim reports to a user. ``str(err)`` is the message."""

    exit_code = 2


class UsageError(FimError):
    """The command line asked for something impossible (no such path, bad size...)."""


class ConfigError(FimError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` holds one line per problem, each starting with the dotted key.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid configuration {source}:\n{lines}")


class RuleError(FimError):
    """A rule file could not be read or compiled. The message names the file and line."""


class StoreError(FimError):
    """The database is locked, corrupt, or from a newer fim."""


class DatabaseFull(StoreError):
    """A write failed because the file system holding the database has no space left."""
