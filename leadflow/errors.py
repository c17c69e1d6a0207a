"""Errors a person can fix: the CLI prints their message and exits non-zero, without a traceback.

Anything else that escapes a command is a bug: its traceback goes to the log file and the CLI
prints one line pointing there.
"""

from __future__ import annotations


class LeadflowError(Exception):
    """A problem with the set-up or the input that the message explains (exit code 2)."""

    exit_code = 2


class InboxMissing(LeadflowError):
    """The inbox folder does not exist: nothing could have been ingested."""


class NotRetryable(LeadflowError):
    """`leadflow retry` was given a file that is not waiting in `failed/`."""
