"""The SMTP connection adapter: Airflow's reading and our own fallback agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from notify.smtp_connection import SmtpSettings, load_smtp_settings, parse_connection

REPO = Path(__file__).resolve().parent.parent
NOTIFY = REPO / "notify"

URI = (
    "smtp://mailer%40example.com:p%40ss%2Fw0rd%21@mail.example.com:2525"
    "?from_email=%E9%94%80%E5%94%AE+%3Csales%40example.com%3E&disable_ssl=true&timeout=12"
)
JSON = json.dumps(
    {
        "conn_type": "smtp",
        "host": "mail.example.com",
        "port": 2525,
        "login": "mailer@example.com",
        "password": "p@ss/w0rd!",
        "extra": {"from_email": "销售 <sales@example.com>", "disable_ssl": True, "timeout": 12},
    }
)
EXPECTED = SmtpSettings(
    host="mail.example.com",
    port=2525,
    login="mailer@example.com",
    password="p@ss/w0rd!",
    starttls=True,
    ssl=False,
    from_address="销售 <sales@example.com>",
    timeout=12,
)


@pytest.mark.parametrize("value", [URI, JSON], ids=["uri", "json"])
def test_fallback_parses_uri_and_json(value):
    assert parse_connection(value) == EXPECTED


def test_provider_defaults_ssl_on_and_text_false_means_false():
    # Airflow's SMTP provider: SSL unless disable_ssl; STARTTLS only matters without SSL.
    assert parse_connection("smtp://mail.example.com") == SmtpSettings(
        "mail.example.com", 465, None, None, False, True, "leadflow@mail.example.com"
    )
    plain = parse_connection("smtp://relay:25?disable_ssl=true&disable_tls=true")
    assert (plain.ssl, plain.starttls, plain.port) == (False, False, 25)
    ssl_kept = parse_connection("smtp://relay?disable_ssl=false")
    assert (ssl_kept.ssl, ssl_kept.port) == (True, 465)


def test_uri_with_json_extra_and_json_with_text_extra():
    extra = {"from_email": "a@b.example", "disable_ssl": True, "disable_tls": True}
    uri = "smtp://relay:1025?__extra__=" + json.dumps(extra).replace(" ", "")
    text_extra = json.dumps({"host": "relay", "port": 1025, "extra": json.dumps(extra)})
    for value in (uri, text_extra):
        settings = parse_connection(value)
        assert (settings.ssl, settings.starttls, settings.from_address) == (
            False,
            False,
            "a@b.example",
        )


def test_password_is_not_in_repr():
    assert "p@ss/w0rd!" not in repr(EXPECTED) and "mail.example.com" in repr(EXPECTED)


def test_without_airflow_reads_the_env_var(monkeypatch):
    # None in sys.modules makes the import fail, as where Airflow is not installed.
    monkeypatch.setitem(sys.modules, "airflow", None)
    monkeypatch.setitem(sys.modules, "airflow.sdk", None)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", URI)
    assert load_smtp_settings() == EXPECTED
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT")
    assert load_smtp_settings() is None
    monkeypatch.setenv("AIRFLOW_CONN_OTHER_SMTP", JSON)
    assert load_smtp_settings("other_smtp") == EXPECTED


def _in_subprocess(code: str, tmp_path: Path, **env: str) -> str:
    # Airflow configures logging on import: keep it out of this test process.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LEADFLOW"))}
    clean |= {"AIRFLOW_HOME": str(tmp_path / "airflow_home"), **env}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


LOAD = (
    "import dataclasses, json, sys; from notify.smtp_connection import load_smtp_settings; "
    "s = load_smtp_settings(); assert 'airflow.sdk' in sys.modules; "
    "print(json.dumps(s and dataclasses.asdict(s), ensure_ascii=False))"
)


@pytest.mark.parametrize("value", [URI, JSON], ids=["uri", "json"])
def test_airflow_reads_the_same_settings(value, tmp_path):
    out = _in_subprocess(LOAD, tmp_path, AIRFLOW_CONN_SMTP_DEFAULT=value)
    assert SmtpSettings(**json.loads(out)) == EXPECTED


def test_airflow_without_connection_gives_none(tmp_path):
    assert _in_subprocess(LOAD, tmp_path) == "null"


def test_only_the_adapter_imports_airflow(tmp_path):
    importers = [
        path.name
        for path in NOTIFY.rglob("*.py")
        if "import airflow" in path.read_text() or "from airflow" in path.read_text()
    ]
    assert importers == ["smtp_connection.py"]
    code = (
        "import sys; from pathlib import Path; from datetime import date; "
        "from tests.notify_fixtures import AS_OF, build_warehouse; "
        "from notify import send_owner_emails; "
        f"w = build_warehouse(Path({str(tmp_path)!r}) / 'w.duckdb'); "
        f"r = send_owner_emails(w, Path({str(tmp_path)!r}) / 'out', AS_OF, smtp=None); "
        "print(r.emails_written, 'airflow' in sys.modules)"
    )
    written, airflow_loaded = _in_subprocess(code, tmp_path).split()
    assert int(written) > 0 and airflow_loaded == "False"
