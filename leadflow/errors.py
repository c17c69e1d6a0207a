"""Errors a person acts on: the message says what failed and where, so no traceback is needed.

`retryable` tells an orchestrator whether trying again later can help (another run holds the
warehouse, a disk is full) or only a person can (a read-only folder, a missing directory):
the DAG retries the first kind and fails the task at once on the second.
"""

from __future__ import annotations


class LeadflowError(RuntimeError):
    """A fault outside the code (a lock, a disk, a permission), described for the operator."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
