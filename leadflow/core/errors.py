"""Errors a person acts on: the message says what failed and where, so no traceback is needed.

The CLI prints their message and exits with `exit_code`; anything else that escapes a command is a
bug, its traceback goes to the log file. `retryable` tells an orchestrator whether trying again
later can help (another run holds the warehouse, a disk is full) or only a person can (a
read-only folder, an invalid channel, a missing inbox): the DAG retries the first kind and fails
the task at once on the second.
"""

from __future__ import annotations


class LeadflowError(RuntimeError):
    """A fault outside the code (a lock, a disk, a permission, the set-up or the input),
    described for the operator."""

    retryable: bool = False
    exit_code = 2

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class InboxMissing(LeadflowError):
    """The inbox folder does not exist: nothing could have been ingested."""


class NotRetryable(LeadflowError):
    """`leadflow retry` was given a file that is not waiting in `failed/`."""
