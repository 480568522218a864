"""One chart = one set of rows. The Plotly figure, the HTML table and the CSV are all made from the
same rows, so the three always show the same numbers.

Rows hold raw values (floats, ints, text, None for "no figure", Withheld for an anonymity-protected
figure, Flag for a threshold mark). `Chart.table()` formats them once; the page and the CSV both use it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

# Okabe-Ito: told apart by people with the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
THRESHOLD_COLOUR = "#B00020"
WITHHELD_COLOUR = "#495057"
# Behind a label drawn over bars or lines, so it stays readable whatever it crosses.
LABEL_BACKGROUND = "rgba(255, 255, 255, 0.85)"
NO_FIGURE = ""


@dataclass(frozen=True)
class Withheld:
    """A figure not shown because its group is smaller than the anonymity threshold."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Flag:
    """A threshold mark: words, so it never relies on colour alone."""

    text: str
    is_alert: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Column:
    label: str
    # text, count, percent (a 0..1 share shown as %), score (2 decimals), decimal, hours, flag
    kind: str = "text"

    @property
    def is_numeric(self) -> bool:
        return self.kind not in ("text", "flag")


def format_value(value: Any, kind: str) -> str:
    """How a cell reads, in the table and the CSV alike."""
    if value is None:
        return NO_FIGURE
    if isinstance(value, Withheld | Flag):
        return str(value)
    if kind == "count":
        return str(int(value))
    if kind == "percent":
        return f"{float(value) * 100:.1f}"
    if kind == "score":
        return f"{float(value):.2f}"
    if kind == "hours":
        return f"{float(value):.1f}"
    if kind == "nps":
        return f"{float(value):.1f}"
    if kind == "decimal":
        return str(value)
    return str(value)


def plotted(value: Any, kind: str = "") -> float | None:
    """The number a figure draws for a cell: a gap for missing or withheld figures."""
    if value is None or isinstance(value, Withheld | Flag | str):
        return None
    number = float(value)
    return round(number * 100, 1) if kind == "percent" else number


@dataclass
class Chart:
    key: str
    title: str
    description: str
    columns: list[Column]
    rows: list[list[Any]]
    figure: go.Figure | None = None
    has_data: bool = True
    empty_message: str = ""
    notes: list[str] = field(default_factory=list)

    def table(self) -> list[list[str]]:
        return [
            [
                format_value(value, column.kind)
                for value, column in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]

    def cells(self) -> list[list[tuple[str, Column, Any]]]:
        """(text, column, raw value) per cell, for templates that mark flags and withheld figures."""
        return [
            list(zip(texts, self.columns, row, strict=True))
            for texts, row in zip(self.table(), self.rows, strict=True)
        ]

    @property
    def header(self) -> list[str]:
        return [column.label for column in self.columns]

    @property
    def figure_json(self) -> Markup:
        """The figure as JSON that is safe inside <script type="application/json">."""
        if self.figure is None:
            return Markup("null")
        text = pio.to_json(self.figure, validate=False)
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return Markup(text)  # noqa: S704 - JSON with <, > and & escaped, inert inside the data block


# --- Figure builders -------------------------------------------------------------------------------


def new_figure(layout: dict[str, Any]) -> go.Figure:
    """A Plotly figure that does not check each property as it is set: that check cost about half
    of a dashboard's chart building. The figures are checked in the tests instead
    (tests/dashboards/test_charts.py builds every chart's JSON back with validation on)."""
    return go.Figure(layout=layout, _validate=False)


def base_layout(y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": go.layout.Template(),
        "margin": {"l": 56, "r": 24, "t": 16, "b": 48},
        "height": 320,
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "x unified",
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#e9ecef", "zeroline": False},
        "xaxis": {"type": "category"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    layout.update(extra)
    if "yaxis2" in layout:
        # Room for the right-hand axis' labels; its zero line would read as a threshold.
        layout["margin"] = {**layout["margin"], "r": 64}
        # Own ticks (plotly.js would otherwise sync them to the left axis' grid: odd numbers).
        layout["yaxis2"] = {"zeroline": False, "tickmode": "auto", **layout["yaxis2"]}
    return layout


def threshold_line(figure: go.Figure, value: float, text: str, yref: str = "y") -> None:
    """A dashed horizontal line with its words on it (never colour alone)."""
    figure.add_shape(
        type="line",
        xref="paper",
        x0=0,
        x1=1,
        yref=yref,
        y0=value,
        y1=value,
        line={"color": THRESHOLD_COLOUR, "width": 2, "dash": "dash"},
    )
    figure.add_annotation(
        xref="paper",
        x=1,
        xanchor="right",
        yref=yref,
        y=value,
        yanchor="bottom",
        text=text,
        showarrow=False,
        font={"color": THRESHOLD_COLOUR, "size": 12},
        bgcolor=LABEL_BACKGROUND,
    )


def mark_withheld(figure: go.Figure, months: Sequence[str], y: float) -> None:
    """Write "Withheld" where a month's figures are held back: a bare gap reads as "no data"."""
    for month in months:
        figure.add_annotation(
            x=month,
            y=y,
            text="Withheld",
            textangle=-90,
            showarrow=False,
            font={"color": WITHHELD_COLOUR, "size": 11},
            bgcolor=LABEL_BACKGROUND,
        )


def line_figure(
    x: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    y_title: str,
    **layout: Any,
) -> go.Figure:
    figure = new_figure(base_layout(y_title, **layout))
    for index, (name, values) in enumerate(series):
        figure.add_trace(
            {
                "type": "scatter",
                "x": list(x),
                "y": list(values),
                "name": name,
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": PALETTE[index % len(PALETTE)], "width": 2},
                "marker": {
                    "size": 7,
                    "symbol": ("circle", "square", "diamond", "triangle-up")[index % 4],
                },
            }
        )
    return figure


def bar_figure(
    x: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    y_title: str,
    *,
    stacked: bool = False,
    **layout: Any,
) -> go.Figure:
    figure = new_figure(base_layout(y_title, barmode="stack" if stacked else "group", **layout))
    for index, (name, values) in enumerate(series):
        figure.add_trace(
            {
                "type": "bar",
                "x": list(x),
                "y": list(values),
                "name": name,
                "marker": {"color": PALETTE[index % len(PALETTE)]},
            }
        )
    return figure
