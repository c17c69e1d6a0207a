"""A person's clone has nothing beside it: every link in the docs resolves inside the repo."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e_support import REPO

LINK = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")


def markdown_files() -> list[Path]:
    tracked = [REPO / "README.md", *REPO.glob("*/README.md"), *(REPO / "docs").glob("*.md")]
    return sorted(p for p in tracked if p.is_file())


def test_every_relative_link_in_the_docs_resolves() -> None:
    broken = []
    for doc in markdown_files():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):  # http:, mailto:
                continue
            if not (doc.parent / target).resolve().exists():
                broken.append(f"{doc.relative_to(REPO)} -> {target}")
    assert broken == []


def test_no_doc_or_test_points_outside_the_clone() -> None:
    outside = re.compile(r"\.\./shared|/work/shared")
    hits = [
        str(p.relative_to(REPO))
        for p in [*markdown_files(), *(REPO / "tests").glob("*.py"), *(REPO / "dags").glob("*.py")]
        if p.name != "test_docs.py" and outside.search(p.read_text(encoding="utf-8"))
    ]
    assert hits == []
