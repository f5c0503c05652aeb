"""The report's charts as PNG bytes (matplotlib, Agg backend: no display needed), in a serif face like the
document's Times New Roman (Liberation Serif and DejaVu Serif stand in where it is not installed).
Imported only when a chart is drawn: matplotlib takes about a second to import."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from reformwh import formatting  # noqa: E402
from reporting.content import short_name  # noqa: E402

_PERCENT_AXIS = FuncFormatter(lambda value, _: f"{value:.0f}%")
SERIF = ["Times New Roman", "Tinos", "Liberation Serif", "Noto Serif", "DejaVu Serif"]
VIETNAMESE = "ởờịướĐạẫ"


def _serif() -> str:
    """The first serif face installed that has the Vietnamese letters (older Liberation Serif lacks ở, ờ, …
    and would print boxes); DejaVu Serif ships with matplotlib, so there is always one."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for name in SERIF:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        except ValueError:
            continue
        charmap = FT2Font(path).get_charmap()
        if all(ord(c) in charmap for c in VIETNAMESE):
            return font_manager.FontProperties(fname=path).get_name()
    return "DejaVu Serif"


FONT = _serif()
plt.rcParams.update({"font.family": "serif", "font.serif": [FONT]})


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    # no timestamp in PNG metadata, so the same figures give the same bytes
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def rates_by_unit(units: list[dict], title: str) -> bytes:
    """Horizontal bars: on-time and online rates of each unit (rates as percentages)."""
    names = [short_name(u["unit_name"]) for u in units]
    height = max(2.5, 0.2 * len(units) + 1.2)  # 25 units: 13 cm high at the printed width
    fig, ax = plt.subplots(figsize=(7.5, height))
    positions = range(len(units))
    on_time = [float(u["on_time_rate"] or 0) * 100 for u in units]
    online = [float(u["online_rate"] or 0) * 100 for u in units]
    ax.barh([p + 0.2 for p in positions], on_time, height=0.4, label="Giải quyết trước và đúng hạn",
            color="#1f4e79")
    ax.barh([p - 0.2 for p in positions], online, height=0.4, label="Tiếp nhận trực tuyến", color="#9dc3e6")
    for p, unit in zip(positions, units, strict=True):
        ax.text(on_time[p] + 0.5, p + 0.2, formatting.percent(unit["on_time_rate"]), va="center", fontsize=6)
    ax.set_yticks(list(positions), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.xaxis.set_major_formatter(_PERCENT_AXIS)
    ax.set_title(title, fontsize=9, pad=20)
    # above the bars, so that it never hides one
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def trend(rows: list[dict], labels: list[str], title: str) -> bytes:
    """Province rates over the last periods."""
    series = [("on_time_rate", "Trước và đúng hạn"), ("online_rate", "Trực tuyến"),
              ("online_full_rate", "Trực tuyến toàn trình"), ("digitization_rate", "Số hóa")]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for column, label in series:
        values = [None if r[column] is None else float(r[column]) * 100 for r in rows]
        ax.plot(range(len(rows)), [v if v is not None else float("nan") for v in values], marker="o", label=label)
    ax.set_xticks(range(len(rows)), labels, fontsize=7, rotation=15)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(_PERCENT_AXIS)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncols=2)
    ax.grid(alpha=0.3)
    return _png(fig)
