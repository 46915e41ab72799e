"""The public survey pages' one query: an invitation by its token's digest, with its campaign,
the campaign's survey and any response, as model instances, as
``Invitation.objects.select_related("campaign__survey", "response").get(token_digest=...)``
would give them.

The public answer page is the busiest page there is (every respondent, every mail scanner), and
the ORM compiled that same four-table SELECT anew for every request: about a third of the page's
time (BENCHMARKS.md, "Load"). The query's shape never changes, so its SQL is written once per
process and database from the models' metadata (every concrete column of the four models, so
nothing is deferred and a new field is picked up without touching this file). Each row becomes
instances through ``Model.from_db``, after the same database converters the ORM applies (JSON,
and SQLite's dates, decimals and booleans), and the related instances are cached on the
invitation as ``select_related`` caches them: no further query to reach them.
``tests/feedback/test_invitation_lookup.py`` compares every field with the ORM's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connections, router
from django.db.models import Model

from .models import Campaign, Invitation, Response, Survey


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    attnames: list[str]
    start: int
    end: int
    pk_index: int
    converters: list[tuple[int, object, list]]  # (column in the part, expression, converters)

    def instance(self, using: str, row: tuple, connection) -> Model | None:
        values = list(row[self.start : self.end])
        if values[self.pk_index] is None:  # no row on the LEFT JOIN
            return None
        for index, expression, converters in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, expression, connection)
            values[index] = value
        return self.model.from_db(using, self.attnames, values)


@cache
def _plan(using: str) -> tuple[str, tuple[_Part, ...]]:
    connection = connections[using]
    qn = connection.ops.quote_name
    columns: list[str] = []
    parts = []
    for alias, model in (("i", Invitation), ("c", Campaign), ("s", Survey), ("r", Response)):
        fields = list(model._meta.concrete_fields)  # from_db takes a full row in this order
        start = len(columns)
        converters = []
        for index, field in enumerate(fields):
            columns.append(f"{alias}.{qn(field.column)}")
            expression = field.get_col(alias)
            found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
            if found:
                converters.append((index, expression, found))
        attnames = [f.attname for f in fields]
        parts.append(_Part(model, attnames, start, len(columns), fields.index(model._meta.pk), converters))

    def table(model: type[Model]) -> str:
        return qn(model._meta.db_table)

    def column(model: type[Model], name: str) -> str:
        return qn(model._meta.get_field(name).column)

    def key(model: type[Model]) -> str:
        return qn(model._meta.pk.column)

    # Only names quoted by the backend from the models' metadata; the digest is a parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM {table(Invitation)} i"  # noqa: S608
        f" INNER JOIN {table(Campaign)} c ON c.{key(Campaign)} = i.{column(Invitation, 'campaign')}"
        f" INNER JOIN {table(Survey)} s ON s.{key(Survey)} = c.{column(Campaign, 'survey')}"
        f" LEFT OUTER JOIN {table(Response)} r ON r.{column(Response, 'invitation')} = i.{key(Invitation)}"
        f" WHERE i.{column(Invitation, 'token_digest')} = %s"
    )
    return sql, tuple(parts)


def invitation_by_digest(digest: str) -> Invitation | None:
    """The invitation whose token has this digest (a unique column), or None; its campaign, the
    campaign's survey and its response (or the absence of one) come with it."""
    using = router.db_for_read(Invitation)
    connection = connections[using]
    sql, (invitation_part, campaign_part, survey_part, response_part) = _plan(using)
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    invitation = invitation_part.instance(using, row, connection)
    campaign = campaign_part.instance(using, row, connection)
    campaign.survey = survey_part.instance(using, row, connection)
    invitation.campaign = campaign
    response = response_part.instance(using, row, connection)
    if response is not None:
        response.invitation = invitation
    # What select_related stores for a reverse one-to-one: the response, or None for "no answer
    # yet" (then invitation.response raises Response.DoesNotExist without a query).
    Invitation.response.related.set_cached_value(invitation, response)
    return invitation
