"""Period reports for managers (R11): figures read from the rpt_period_* marts only, drawn with
matplotlib, written as self-contained HTML pages and PNG charts under the reports folder.

The mail of a report belongs to notify/, which never imports this package: the pipeline renders
here, then hands the rendered pieces to notify (docs/reports.md).
"""

from reporting.periods import PERIOD_KINDS, due_kinds, report_period
from reporting.service import RenderedReport, ReportError, render_period_reports

__all__ = [
    "PERIOD_KINDS",
    "RenderedReport",
    "ReportError",
    "due_kinds",
    "render_period_reports",
    "report_period",
]
