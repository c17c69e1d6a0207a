"""A test's own data dir: settings whose inbox, warehouse, outbox, reports and publish folders
all lie under one temporary folder, so a run in a test never touches the repo's data/ or
another test's files (the tests that run whole steps or runs share this set-up)."""

from __future__ import annotations

from pathlib import Path

from leadflow.core.settings import Settings, load_settings


def workdir_settings(root: Path, *, warehouse: str = "wh.duckdb") -> Settings:
    """The environment's settings with every folder under `root` (the warehouse file named
    `warehouse`); channels, dbt project and the other settings stay as configured."""
    return load_settings().with_paths(
        data_dir=root,
        inbox=root / "inbox",
        warehouse=root / warehouse,
        outbox=root / "outbox",
        reports_dir=root / "reports",
        publish_dir=root / "publish",
    )
