"""A JSON parser that refuses what the database cannot store, so bad input is a 400, never a 500.

PostgreSQL rejects NUL characters in text and JSON, and nothing can encode a lone UTF-16
surrogate; JSON escapes can produce both. A fast scan of the raw bytes finds the rare body
that needs the slower, exact check.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def find_unstorable(value: Any) -> str | None:
    """A message when ``value`` (parsed JSON) holds a NUL or a lone surrogate, else None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return _("Text may not contain NUL characters.")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _("Text may not contain unpaired surrogate characters.")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw:
            raise ParseError(_("The request body is empty; send a JSON document."))
        try:
            data = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("The request body is not valid JSON: %(error)s") % {"error": exc}) from exc
        if _SUSPECT.search(raw):
            problem = find_unstorable(data)
            if problem:
                raise ParseError(problem)
        return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
