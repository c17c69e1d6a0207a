"""Demo data: channel exports for an inbox, plus the ground truth they were generated from.

``generate(out_dir, seed=7, leads=60, as_of=date(2026, 11, 27))`` writes one file per channel
YAML in ``ingest/channels`` (names match their ``files`` globs, dated by the as-of anchor):

- ``owners.csv``: the owner directory (C5): six Chinese-speaking reps, one English-speaking rep,
  one inactive rep, and ``ops``.
- ``web_forms_<asof>.json``: a JSON array of nested submissions, ISO 8601 times with +08:00.
- ``badge_scans_zhizao<show>_gbk.csv`` (GBK, Chinese headers, CRLF) and
  ``badge_scans_saassummit<show>_en.csv`` (UTF-8 with BOM, English headers): two trade shows
  within the last 30 days.
- ``referrals_<asof>.xlsx``: the 14-column R12 template, combined cells as people type them; the
  template has no acquisition-time column, so these records are timeless (C2).
- ``follow_ups_<asof>.csv``, ``status_changes_<asof>.csv``, ``care_actions_<asof>.csv``: CRM
  activity exports in time order; rows name their lead by e-mail, mobile, or company + name.

Every event lies within 120 days before the cut-off (00:00 Asia/Shanghai at the start of
``as_of``, C4) and strictly before it; local times carry no offset except in web forms. Output
is a pure function of ``seed``, ``leads`` and ``as_of``: the same arguments give byte-identical
files. Persons are generated company by company and rows pass through disk-backed, time-bucketed
spools, so memory stays bounded at a million leads.

Each of the ``leads`` persons appears in one to three intake channels (web form, one of the badge
files, referral sheet), with the variations real exports have (e-mail case, phone formats, title
in or out of the contact cell, a second mailbox on the same corporate domain) but always with a
linking key (C3) shared by all of their records. The first persons are fixed scenarios, whatever
the seed: a recent win with care actions, a fresh untouched web lead, a lead due on as_of, an
overdue lead, a churned customer, a lost lead, a lead linked only by domain + name, and one host
for each planted bad row. Everything that is not planted is meant to load clean.

Ground truth (JSON) goes to ``truth_path``, by default
``<out_dir.parent>/<out_dir.name>_truth.json``: never inside the inbox, which ingest reads whole.
Its schema::

    {
      "seed": 7, "as_of": "2026-11-27", "timezone": "Asia/Shanghai",
      "cutoff": "2026-11-27T00:00:00+08:00", "window_days": 120,
      "persons": 60,                        # distinct true persons (= leads)
      "owners": [{"name", "email", "language", "manager", "active"}, ...],
      "files": {
        "<file name>": {
          "channel": "badge_scan", "entity": "intake",
          "rows": 23,                       # data rows written (header excluded; CSV records)
          "quarantined": [{"row": 7, "reason": "undecodable"}],
          "expected_loaded": 22,            # rows - quarantined
          "sheets": ["线索跟进表"]          # XLSX only
        }, ...
      },
      "planted": [                          # every deliberately bad row
        {"file", "sheet" (XLSX, else null), "row", "field" (canonical field, "phone|email" for
         a missing any-of, null for whole-row problems), "check", "why",
         "person_id" (null for the orphan)}, ...
      ],
      "records": [                          # one per intake row (web, badge, referral)
        {"file", "sheet" (XLSX, else null), "row", "person_id"}, ...
      ],
      "activity_records": {                 # follow-up / status / care rows, in row order:
        "<file name>": ["P000001", null, ...]   # element i is data row i + 1; null = orphan
      }
    }

Rows are 1-based data rows, header excluded, counting CSV records rather than physical lines;
for XLSX they count within the sheet named by ``sheet``. Planted checks use the names of
docs/interfaces.md: ``missing_required`` (web form with neither phone nor email),
``unparseable_value`` (badge scan time "YYYY-13-45 25:61"), ``invalid_email`` ("…@@example"),
``undecodable`` (GBK badge line with bytes ff ff: to be quarantined), ``masked_phone``
(referral "138****5678"), ``unknown_owner`` (follow-up by 赵六), ``logged_before_contact``,
``duplicate_row`` (the second of two identical follow-up rows, export id included),
``invalid_grade`` (grade "X"), ``orphan_reference`` (a follow-up about nobody).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from tools.demo.generator import run

__all__ = ["generate", "default_truth_path"]


def default_truth_path(out_dir: Path) -> Path:
    return out_dir.parent / f"{out_dir.name}_truth.json"


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    leads: int = 60,
    as_of: date,
    truth_path: Path | None = None,
) -> dict[str, Any]:
    """Write the demo inbox into `out_dir` and its ground truth to `truth_path`.

    Returns a summary: ``out_dir``, ``truth_path``, ``persons``, ``files`` (file name -> data
    rows written) and ``planted`` (number of planted bad rows).
    """
    out_dir = Path(out_dir)
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    truth = Path(truth_path) if truth_path is not None else default_truth_path(out_dir)
    if truth.resolve().is_relative_to(out_dir.resolve()):
        raise ValueError(f"truth file {truth} must not be inside the inbox {out_dir}")
    return run(out_dir, seed=seed, leads=leads, as_of=as_of, truth_path=truth)


DEMO_MARKER = ".leadflow-demo"  # written into the folder `make demo` owns


def claim_demo_dir(folder: Path) -> str:
    """Empty `folder` for a new demo run, only when it is the demo's own: absent, empty, or
    marked by an earlier `make demo` with nothing waiting in its inbox. Anything else may be
    a person's data (an inbox, a warehouse, a send ledger) and is never deleted."""
    import shutil

    from ingest.inbox import inbox_files
    from leadflow.core.errors import LeadflowError

    folder = Path(folder)
    if folder.exists():
        marked = (folder / DEMO_MARKER).is_file()
        if not folder.is_dir() or (any(folder.iterdir()) and not marked):
            raise LeadflowError(
                f"{folder} holds files the demo did not write, so the demo will not touch it. "
                f"Run the demo in its own folder (make demo DEMO_DIR=/path/to/new/folder); "
                "your own exports go in data/inbox (see README: running on your own files)"
            )
        waiting = inbox_files(folder / "inbox") if (folder / "inbox").is_dir() else []
        if waiting:
            raise LeadflowError(
                f"{folder / 'inbox'} holds files dropped since the last demo "
                f"({', '.join(p.name for p in waiting[:5])}): move them out first; the demo "
                "resets only its own folder"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text(
        "Written by `make demo`: the next `make demo` empties this folder.\n", encoding="utf-8"
    )
    return f"demo folder {folder} ready"
