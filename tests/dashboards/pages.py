"""Reading the dashboards' tables back out of the HTML, as a person (or a screen reader) would."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables[attrs["id"]] = {
                "head": [],
                "rows": [],
                "chart": attrs.get("data-chart"),
            }
        elif self._table is not None and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = {"text": "", "value": attrs.get("data-value"), "href": None}
        elif self._cell is not None and tag == "a":
            self._cell["href"] = attrs.get("href")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            target = (
                self._table["head"]
                if not self._table["head"] and not self._table["rows"]
                else self._table["rows"]
            )
            if target is self._table["head"]:
                self._table["head"] = [c["text"] for c in self._row]
            else:
                target.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def tables(html: str) -> dict[str, dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def row(table: dict, label: str) -> list[dict]:
    for cells in table["rows"]:
        if cells[0]["text"] == label:
            return cells
    raise KeyError(f"no row {label!r} in {[c[0]['text'] for c in table['rows']]}")
