"""Bulk writes for the nightly recompute: COPY on PostgreSQL, batched INSERT ... ON CONFLICT elsewhere.

100,000 snapshots a night go in with COPY, straight into the table (today's rows of those
accounts are deleted first in the same transaction, so recomputing replaces them); the
current-health rows go through a temporary table and one INSERT ... ON CONFLICT DO UPDATE.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

BATCH = 2000  # rows per statement on the ORM path
COPY_CHUNK = 2000  # rows per write to the COPY stream


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


NULL = "\\N"
# A flat list of numbers (or nulls) as JSON, a snapshot's raw values: floats as repr, in C.
_json_text = json.JSONEncoder(separators=(",", ":")).encode


def _memo_text(memo: dict) -> Callable[[Any], str]:
    def text(value: Any) -> str:
        kind = type(value)
        if kind is int or kind is float:
            return repr(value)
        if kind is str or kind is dt.date or kind is dt.datetime:  # equal values, equal text
            found = memo.get(value)
            if found is None:
                memo[value] = found = _text(value)
            return found
        return _text(value)

    return text


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


def replace_day_rows(
    model: type[Model], columns: list[str], rows: list[tuple], *, day: dt.date, json_columns=frozenset()
) -> None:
    """Write rows keyed by (account_id, day), replacing the day's rows of the same accounts.
    Call inside a transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        upsert(model, columns, rows, unique=["account", "day"])
        return
    json_at = {i for i, name in enumerate(columns) if name in json_columns}
    # One formatter per column, chosen once: the JSON columns through the C encoder, the rest
    # through _text, remembered for values every row shares (the day, the run's time).
    formatters = [_json_text if i in json_at else _memo_text({}) for i in range(len(columns))]
    lines = (
        "\t".join([NULL if value is None else fmt(value) for fmt, value in zip(formatters, row, strict=True)])
        for row in rows
    )
    replace_day_lines(model, columns, ids=[row[0] for row in rows], lines=lines, day=day)


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
            for chunk in _chunks_of(lines, COPY_CHUNK):
                copy.write("\n".join(chunk) + "\n")


def _chunks_of(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


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


def upsert(model: type[Model], columns: list[str], rows: list[tuple], *, unique: list[str]) -> None:
    """Insert rows (tuples in ``columns`` order, attribute names), replacing those that clash on
    ``unique``. PostgreSQL: COPY into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE.
    Elsewhere: batched INSERT ... ON CONFLICT through the ORM."""
    if not rows:
        return
    meta = model._meta
    unique_columns = [meta.get_field(name).column for name in unique]
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        update = [meta.get_field(c).name for c in columns if meta.get_field(c).column not in unique_columns]
        for batch in _chunks(objects, BATCH):
            with transaction.atomic():
                model.objects.bulk_create(
                    batch, update_conflicts=True, unique_fields=unique, update_fields=update
                )
        return
    names = _columns(model, columns)
    quoted = ", ".join(f'"{name}"' for name in names)
    temp = f"tmp_upsert_{meta.db_table}"
    assignments = ", ".join(f'"{n}" = EXCLUDED."{n}"' for n in names if n not in unique_columns)
    conflict = ", ".join(f'"{n}"' for n in unique_columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f'CREATE TEMPORARY TABLE "{temp}" AS SELECT {quoted} FROM "{meta.db_table}" WITH NO DATA'  # noqa: S608
        )
        with cursor.cursor.copy(f'COPY "{temp}" ({quoted}) FROM STDIN') as copy:
            for chunk in _chunks(rows, COPY_CHUNK):
                copy.write("".join("\t".join(_text(v) for v in row) + "\n" for row in chunk))
        cursor.execute(
            f'INSERT INTO "{meta.db_table}" ({quoted}) SELECT {quoted} FROM "{temp}" '  # noqa: S608
            f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
        )
        cursor.execute(f'DROP TABLE "{temp}"')
