"""The report's charts, drawn with matplotlib (Agg, no display) as PNG bytes: the same picture
goes into the HTML page (a data: URI) and the email (an inline part by Content-ID).

Why matplotlib: it draws PNG in-process with no browser or JavaScript engine (Altair needs
vl-convert's embedded Deno to get a PNG), it is the most widely maintained plotting library, and
a CJK font (WenQuanYi Micro Hei, Noto CJK) is used through its font fallback when installed, so
Chinese source names and labels render. Charts carry no timestamp: the same figures give the
same bytes (metadata Software/Date removed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

CJK_FONTS = ["DejaVu Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC"]
COLOURS = ["#0969da", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#cf222e"]
WIDTH_IN, HEIGHT_IN, DPI = 6.4, 2.8, 100


def _pyplot():  # imported on first use: ~1 s, never at DAG parse time
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    plt.rcParams.update(
        {
            # a list: glyph by glyph fallback (matplotlib >= 3.6), of the fonts installed only
            "font.family": [name for name in CJK_FONTS if name in installed] or ["sans-serif"],
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "font.size": 9,
        }
    )
    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return buffer.getvalue()


def trend_chart(
    periods: Sequence[date],
    series: dict[str, Sequence[float | None]],
    *,
    share: bool,
    title: str,
) -> bytes:
    """Lines over the trend's periods, one per series; a gap where a value is unknown."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    labels = [p.strftime("%m-%d") if len(periods) and _weekly(periods) else p.strftime("%Y-%m")
              for p in periods]  # fmt: skip
    x = list(range(len(periods)))
    for i, (name, values) in enumerate(series.items()):
        ys = [float("nan") if v is None else float(v) for v in values]
        ax.plot(x, ys, marker="o", markersize=3, color=COLOURS[i % len(COLOURS)], label=name)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    if share:
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    else:
        ax.set_ylim(bottom=0)
    ax.set_title(title, loc="left")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return _png(fig)


def bar_chart(
    labels: Sequence[str], values: Sequence[float | None], *, share: bool, title: str
) -> bytes:
    """Horizontal bars, one per dimension value, with the value written at the bar's end."""
    plt = _pyplot()
    height = max(HEIGHT_IN * 0.6, 0.45 * len(labels) + 0.8)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
    ys = [0.0 if v is None else float(v) for v in values]
    y = list(range(len(labels)))
    ax.barh(y, ys, color=COLOURS[0])
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    for yi, v in zip(y, values, strict=True):
        text = "-" if v is None else (f"{v:.0%}" if share else f"{v:g}")
        ax.annotate(text, (0 if v is None else float(v), yi), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    if share:
        ax.set_xlim(0, 1.1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.grid(axis="y", visible=False)
    ax.set_title(title, loc="left")
    return _png(fig)


def _weekly(periods: Sequence[date]) -> bool:
    return len(periods) > 1 and (periods[1] - periods[0]).days == 7
