"""The Airflow SMTP connection, read once into plain settings (the only Airflow import of notify).

The connection means what it means to Airflow's own SMTP provider (`SmtpHook`): extras
`from_email`, `disable_ssl`, `disable_tls` and `timeout`; SSL and STARTTLS are on unless disabled.
Airflow is imported lazily inside `load_smtp_settings`, so notify works where Airflow is not
installed: then `AIRFLOW_CONN_<CONN_ID>` (URI or JSON) is parsed here with the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from leadflow.core.settings import airflow_connection_env

DEFAULT_FROM_LOCAL_PART = "leadflow"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    login: str | None
    password: str | None = field(repr=False)  # never in a repr, hence never in a log line
    starttls: bool
    ssl: bool
    from_address: str
    timeout: float = 30

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"


def preload_airflow() -> None:
    """Import Airflow now: its import points the root logger at stdout, so a run that will look
    up the SMTP connection imports it before setting up its own logging, which then stays."""
    import airflow.sdk  # noqa: F401


def load_smtp_settings(conn_id: str = "smtp_default") -> SmtpSettings | None:
    """The connection `conn_id` as settings, or None when no such connection is configured."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        return _settings_from_env(conn_id)
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    # Read fields one by one: the Connection's repr carries the password.
    return settings_from_parts(
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        extra=conn.extra_dejson,
    )


def settings_from_parts(
    *,
    host: str | None,
    port: int | str | None,
    login: str | None,
    password: str | None,
    extra: Mapping[str, Any] | None,
) -> SmtpSettings | None:
    """Airflow connection fields to settings, with the SMTP provider's meaning of the extras."""
    if not host:
        return None
    extra = extra or {}
    use_ssl = not _truthy(extra.get("disable_ssl", False))
    # STARTTLS upgrades a plain connection; over SSL there is nothing to upgrade.
    use_starttls = not use_ssl and not _truthy(extra.get("disable_tls", False))
    return SmtpSettings(
        host=host,
        port=int(port) if port else _default_port(use_ssl, use_starttls),
        login=login or None,
        password=password or None,
        starttls=use_starttls,
        ssl=use_ssl,
        from_address=_from_address(extra.get("from_email"), login, host),
        timeout=float(extra.get("timeout", 30)),
    )


def parse_connection(value: str) -> SmtpSettings | None:
    """An `AIRFLOW_CONN_*` value (JSON object or URI) to settings, as Airflow would read it."""
    value = value.strip()
    if not value:
        return None
    if value.startswith("{"):
        return _parse_json(value)
    return _parse_uri(value)


def _settings_from_env(conn_id: str) -> SmtpSettings | None:
    value = airflow_connection_env(conn_id)
    return parse_connection(value) if value else None


def _parse_json(value: str) -> SmtpSettings | None:
    data = json.loads(value)
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    return settings_from_parts(
        host=data.get("host"),
        port=data.get("port"),
        login=data.get("login"),
        password=data.get("password"),
        extra=extra,
    )


def _parse_uri(value: str) -> SmtpSettings | None:
    parts = urlsplit(value)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    # Airflow's URI form can carry the whole extra as JSON in `__extra__`.
    extra: dict[str, Any] = json.loads(query.pop("__extra__")) if "__extra__" in query else query
    return settings_from_parts(
        host=unquote(parts.hostname or ""),
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        extra=extra,
    )


def _truthy(value: Any) -> bool:
    # URI extras arrive as text: "false" must mean False (bool("false") would not).
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _default_port(use_ssl: bool, use_starttls: bool) -> int:
    if use_ssl:
        return 465
    return 587 if use_starttls else 25


def _from_address(from_email: Any, login: str | None, host: str) -> str:
    if from_email:
        return str(from_email)
    if login and "@" in login:
        return login
    return f"{DEFAULT_FROM_LOCAL_PART}@{host}"
