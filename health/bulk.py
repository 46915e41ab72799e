"""Bulk writes for the nightly recompute: COPY on PostgreSQL, batched INSERT ... ON CONFLICT elsewhere.

100,000 snapshots a night go in with COPY, straight into the table (today's rows of those
accounts are deleted first in the same transaction, so recomputing replaces them), from lines
the caller formats (``replace_day_lines``); elsewhere through the ORM (``replace_day_rows``).
New alerts go in with one INSERT from arrays (``insert``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.db import connection
from django.db.models import Model

BATCH = 2000  # rows per statement on the ORM path
COPY_CHUNK = 2000  # rows per write to the COPY stream


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


NULL = "\\N"
# A flat list of numbers (or nulls) as JSON, a snapshot's raw values: floats as repr, in C.
_json_text = json.JSONEncoder(separators=(",", ":")).encode


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


def _columns(model: type[Model], columns: list[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in columns]


def replace_day_rows(model: type[Model], columns: list[str], rows: list[tuple]) -> None:
    """Elsewhere than PostgreSQL: write rows keyed by (account, day) (tuples in ``columns`` order,
    attribute names), replacing those already there for the same account and day: batched INSERT
    ... ON CONFLICT through the ORM. Call inside a transaction."""
    meta = model._meta
    unique = ["account", "day"]
    update = [meta.get_field(name).name for name in columns if meta.get_field(name).name not in unique]
    objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
    for batch in _chunks(objects, BATCH):
        model.objects.bulk_create(batch, update_conflicts=True, unique_fields=unique, update_fields=update)


def replace_day_lines(
    model: type[Model], columns: list[str], *, ids: list[int], lines: Iterable[str], day: dt.date
) -> None:
    """PostgreSQL: write rows given as lines of COPY's text format (``columns`` in order, the
    account id first), replacing the day's rows of the same accounts (``ids``). Call inside a
    transaction."""
    if not ids:
        return
    names = _columns(model, columns)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # The nightly job finds no rows for the day yet: one index probe saves the delete's
        # lookups of every id.
        cursor.execute(
            f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE "day" = %s '  # noqa: S608
            'AND "account_id" >= %s AND "account_id" <= %s)',
            [day, min(ids), max(ids)],
        )
        (any_rows,) = cursor.fetchone()
        for chunk in _chunks(ids, 10_000) if any_rows else ():
            # a join, not "= ANY(array)": that compares every row with the whole array
            delete = (
                f'DELETE FROM "{table}" AS t USING unnest(%s::bigint[]) AS ids(id) '  # noqa: S608
                'WHERE t."day" = %s AND t."account_id" = ids.id'
            )
            cursor.execute(delete, [list(chunk), day])
        quoted = ", ".join(f'"{name}"' for name in names)
        with cursor.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            for chunk in _chunks(lines, COPY_CHUNK):
                copy.write("\n".join(chunk) + "\n")


class FloatTexts(dict):
    """A number (or None) -> its JSON text, each worked out once: a batch's raw values repeat
    (100,000 accounts' snapshots hold some 12,000 distinct numbers among 530,000)."""

    def __missing__(self, value: float | None) -> str:
        text = self[value] = "null" if value is None else repr(value)
        return text


def float_list_json(values: list[float | None], texts: FloatTexts) -> str:
    """A list of floats and nulls as JSON (a snapshot's raw values), as fast as Python can: each
    float's repr is JSON's, and ``texts`` remembers them. A value that is not finite (no JSON for
    it) is written as null, as "no data"."""
    text = "[" + ",".join(map(texts.__getitem__, values)) + "]"
    if "inf" in text or "nan" in text:
        return _json_text([v if v is None or math.isfinite(v) else None for v in values])
    return text


def copy_text(value: str, memo: dict[str, str]) -> str:
    """A string value in COPY's text format, remembered (for columns of a few distinct values)."""
    found = memo.get(value)
    if found is None:
        memo[value] = found = _text(value)
    return found


def insert(model: type[Model], objects: list[Model]) -> list[Model]:
    """``model.objects.bulk_create(objects)``, on PostgreSQL in one INSERT from one array per
    column (Django binds every field of every object as its own parameter: for a thousand
    alerts that cost more than writing them). The objects get their primary keys, as there."""
    if not objects or connection.vendor != "postgresql":
        return model.objects.bulk_create(objects)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    params = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objects] for f in fields]
    sql = (
        f'INSERT INTO "{meta.db_table}" ({columns}) SELECT {names} FROM unnest({arrays}) '  # noqa: S608
        f'WITH ORDINALITY AS rows({names}, n) ORDER BY n RETURNING "{meta.pk.column}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pks = [row[0] for row in cursor.fetchall()]  # in the order inserted, as bulk_create relies on
    for obj, pk in zip(objects, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects
