"""Errors a person acts on, in two kinds: the message says what failed and where, so no traceback
is needed.

- **Terminal** (`TerminalError`): only a person can cure it (bad configuration, an invalid channel,
  a missing inbox, a read-only folder, a failed dbt model). Trying again repeats the failure.
- **Transient** (`TransientError`): trying again later can help (another run holds the warehouse,
  a disk is full, the SMTP server did not take every message).

The CLI prints their message and exits with `exit_code`; anything else that escapes a command is a
bug, its traceback goes to the log file. The DAG maps the two kinds to Airflow's retry in one
place (`dags/lead_pipeline.py`, `airflow_error`): transient is retried, terminal fails at once.
"""

from __future__ import annotations


class LeadflowError(RuntimeError):
    """A fault outside the code (a lock, a disk, a permission, the set-up or the input),
    described for the operator. `retryable` says which kind it is; an error whose kind depends
    on what happened (an OS error number) passes it explicitly."""

    retryable: bool = False
    exit_code = 2

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class TerminalError(LeadflowError):
    """Only a person can fix it: fail without retry."""

    retryable = False


class TransientError(LeadflowError):
    """Trying again later can help: retry."""

    retryable = True


class ConfigurationError(TerminalError, ValueError):
    """Settings, a channel, the routing rules or the owner directory cannot be used as given."""


class InboxMissing(ConfigurationError):
    """The inbox folder does not exist: nothing could have been ingested."""


class NotRetryable(TerminalError):
    """`leadflow retry` was given a file that is not waiting in `failed/`."""


class BuildFailed(TerminalError):
    """A model or a test of the data failed: running the same build again repeats it."""


class MailNotDelivered(TransientError):
    """Some owner emails were not delivered: a retry sends only the unsent ones (the ledger)."""


class WarehouseNotReady(TerminalError):
    """The tables a step reads are missing: run the steps before it first."""
