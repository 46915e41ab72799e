"""Every figure the dashboards show sits in a ``Table``: the page renders it (and draws its
chart from it), the CSV export writes it, so the two can never disagree.

A chart is drawn in the browser from the table's own cells (``data-value`` holds each raw
number), so the table is the chart's accessible alternative by construction.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.resources import escape_formula

from . import formatting


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, money, pct, number, times, days, nps, html
    series: bool = False  # drawn as a series of the table's chart
    export: bool = True

    @property
    def numeric(self) -> bool:
        return self.kind not in ("text", "html")

    @property
    def csv_label(self) -> str:
        if self.kind in ("pct", "pct2"):
            return f"{self.label} (%)"
        if self.kind == "pp":
            return f"{self.label} (pp)"
        return str(self.label)


@dataclass
class Cell:
    value: Any  # the raw value; None: no data
    href: str | None = None
    css: str = ""
    html: SafeString | None = None  # shown instead of the formatted value (e.g. a grade chip)
    text: str | None = None  # the CSV's value, when not the raw value (e.g. a label)


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)  # values or Cells, one per column
    description: str = ""
    empty: str = ""  # shown (and exported) when there are no rows
    chart: dict | None = None  # {"type": "bar" | "line" | "waterfall" | "doughnut", ...}
    css: str = ""
    row_header: bool = True  # the first column names the row

    def cell(self, row: list[Any], index: int) -> Cell:
        value = row[index]
        return value if isinstance(value, Cell) else Cell(value)

    # -------------------------------------------------------------- page

    def rendered_rows(self) -> list[list[dict]]:
        rendered = []
        for row in self.rows:
            cells = []
            for index, column in enumerate(self.columns):
                cell = self.cell(row, index)
                if cell.html is not None:
                    shown = cell.html
                elif column.kind == "html":
                    shown = cell.value
                else:
                    shown = formatting.display(cell.value, "text" if column.kind == "text" else column.kind)
                cells.append(
                    {
                        "shown": shown,
                        "raw": _raw(cell.value, column) if column.numeric else None,
                        "href": cell.href,
                        "css": " ".join(c for c in (("num" if column.numeric else ""), cell.css) if c),
                        "is_header": self.row_header and index == 0,
                    }
                )
            rendered.append(cells)
        return rendered

    @property
    def chart_json(self) -> str:
        return json.dumps(self.chart) if self.chart else ""

    # -------------------------------------------------------------- CSV

    def csv_rows(self) -> list[list[str]]:
        columns = [c for c in self.columns if c.export]
        indexes = [i for i, c in enumerate(self.columns) if c.export]
        lines = [[c.csv_label for c in columns]]
        for row in self.rows:
            line = []
            for index in indexes:
                cell, column = self.cell(row, index), self.columns[index]
                line.append(_csv_value(cell, column))
            lines.append(line)
        return lines

    def csv_response(self, filename: str, *, by) -> HttpResponse:
        """The table as a CSV download, formulas neutralised; ``by`` (the user) goes in the audit log."""
        from audit.models import AuditAction
        from audit.services import audit_record

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        lines = self.csv_rows()
        for line in lines:
            writer.writerow([escape_formula(value) for value in line])
        audit_record(
            actor=by,
            action=AuditAction.EXPORT,
            target_type="dashboards.table",
            target_id=self.id,
            target_label=filename,
            details={"via": "dashboard", "rows": len(lines) - 1},
        )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response


def _raw(value: Any, column: Column) -> str | None:
    """The number behind a cell, for charts and for anyone reading the page's markup (none
    for "no data")."""
    if value is None:
        return None
    if column.kind in ("pct", "pct2", "pp"):
        return f"{float(value) * 100:.4f}"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _csv_value(cell: Cell, column: Column) -> str:
    """Plain, unformatted values a spreadsheet can add up: percentages as numbers of percent,
    money in the reporting currency without symbols, no data as an empty cell (never 0)."""
    if cell.text is not None:
        return cell.text
    value = cell.value
    if value is None:
        return ""
    if column.kind in ("pct", "pct2", "pp"):
        return f"{float(value) * 100:.2f}"
    if column.kind in ("number", "times", "nps", "days") and not isinstance(value, Decimal):
        return f"{float(value):.2f}"
    if column.kind == "html":
        return str(value)
    return str(value)


def link(text: str, href: str | None) -> SafeString:
    return format_html('<a href="{}">{}</a>', href, text) if href else format_html("{}", text)
