"""Self-contained HTML pages for people offline: inline CSS, no script, no external resource,
every value escaped (file contents end up in these pages: a cell may hold `<script>`)."""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}
h1{font-size:1.35rem}h2{font-size:1.1rem;margin-top:1.8rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37}.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700}
.muted{color:#656d76}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;margin:0}
"""


class Raw(str):
    """Markup built here (a link): the one kind of value `esc` leaves as it is."""


def esc(value: Any) -> str:
    if isinstance(value, Raw):
        return value
    return "" if value is None else html.escape(str(value), quote=True)


def page(title: str, body: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1>{''.join(body)}</body></html>\n"
    )


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{esc(v)}</td>' if i in numeric else f"<td>{esc(v)}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return '<p class="muted">none</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def facts(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)
    return f"<table>{rows}</table>"


def link(target: Path | str, text: Any, *, base: Path) -> Raw:
    """A relative link from a page in `base`, so the folder can be moved or zipped whole."""
    href = os.path.relpath(Path(target), base).replace(os.sep, "/")
    return Raw(f'<a href="{esc(href)}">{esc(text)}</a>')


def para(text: Any, css: str = "") -> str:
    cls = f' class="{esc(css)}"' if css else ""
    return f"<p{cls}>{esc(text)}</p>"


def heading(text: Any, level: int = 2) -> str:
    return f"<h{level}>{esc(text)}</h{level}>"


def write_page(path: Path, title: str, body: Iterable[str]) -> Path:
    """Write atomically: a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page(title, body), encoding="utf-8")
    partial.replace(path)
    return path
