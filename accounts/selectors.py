"""Reads on accounts: set-based, a fixed number of queries whatever the data size."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cs_app.plain_rows import plain_rows
from cs_app.prepared import PreparedQuery, prepared

from .models import NO_ACCOUNTS, Account, Contact, MrrMovement, Touchpoint, UsageEvent, visible_owner

# ---------------------------------------------------------------- MRR

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    """A database sum of amounts, back to exact cents (SQLite adds decimals as floats, so a
    churned account could otherwise show 1E-13 and count as active)."""
    return Decimal(value).quantize(CENT) + 0  # + 0: never "-0.00"


def mrr_on(*, account: Account, day: dt.date) -> Decimal:
    """MRR of one account on ``day``: the sum of its movements dated on or before it."""
    return _cents(
        MrrMovement.objects.filter(account=account, date__lte=day).aggregate(
            total=Coalesce(Sum("amount"), Decimal("0"))
        )["total"]
    )


def mrr_by_account_on(
    *, day: dt.date, accounts: QuerySet[Account] | None = None, id_range: tuple[int, int] | None = None
) -> dict[int, Decimal]:
    """MRR on ``day`` for many accounts in one grouped query ({account id: MRR}), of ``accounts``
    and/or those whose id is in ``id_range`` (a range on the movements' own account index).

    Accounts without movements up to ``day`` are absent (their MRR is zero).
    """
    movements = MrrMovement.objects.filter(date__lte=day)
    if id_range is not None:
        movements = movements.filter(account_id__gte=id_range[0], account_id__lte=id_range[1])
    if accounts is not None:
        movements = movements.filter(account__in=accounts.values("pk"))
    rows = (
        movements.order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    if connection.vendor == "postgresql":  # numeric sums: exact cents already (and never "-0.00")
        return dict(plain_rows(rows))
    return {account_id: _cents(total) for account_id, total in plain_rows(rows)}


def total_mrr_on(*, day: dt.date, accounts: QuerySet[Account] | None = None) -> Decimal:
    movements = MrrMovement.objects.filter(date__lte=day)
    if accounts is not None:
        movements = movements.filter(account__in=accounts.values("pk"))
    return _cents(movements.aggregate(total=Coalesce(Sum("amount"), Decimal("0")))["total"])


@dataclass(frozen=True)
class MonthMrr:
    month: dt.date  # first day of the month
    mrr: Decimal  # MRR on the last day of the month (or today, for this month)
    change: Decimal


def account_visible(*, user, pk: int, page: bool = False) -> Account | None:
    """The account if this user may see it (``Account.objects.visible_to``), else None: one
    query, compiled once per process. ``page``: for the 360 page, with its owner and parent
    joined and ``has_children`` (whether any account names it as parent)."""
    owner_id = visible_owner(user)
    if owner_id == NO_ACCOUNTS:
        return None
    if owner_id is None:
        rows = _account_page(pk=pk) if page else _account(pk=pk)
    else:
        rows = (_owned_account_page if page else _owned_account)(pk=pk, owner_id=owner_id)
    return rows[0] if rows else None


@prepared
def _account(pk: int) -> QuerySet[Account]:
    return Account.objects.filter(pk=pk)


@prepared
def _owned_account(pk: int, owner_id: int) -> QuerySet[Account]:
    return Account.objects.filter(pk=pk, owner_id=owner_id)


def _with_page_joins(accounts: QuerySet[Account]) -> QuerySet[Account]:
    children = Account.objects.filter(parent=OuterRef("pk"))
    return accounts.select_related("owner", "parent").annotate(has_children=Exists(children))


@prepared
def _account_page(pk: int) -> QuerySet[Account]:
    return _with_page_joins(Account.objects.filter(pk=pk))


@prepared
def _owned_account_page(pk: int, owner_id: int) -> QuerySet[Account]:
    return _with_page_joins(Account.objects.filter(pk=pk, owner_id=owner_id))


def account_contacts(*, account: Account) -> list[Contact]:
    """The account's contacts by role, then name. One query."""
    return _contacts(account_id=account.pk)


@prepared
def _contacts(account_id: int) -> QuerySet[Contact]:
    return Contact.objects.filter(account_id=account_id).order_by("role", "name")


@prepared
def _movements_until(account_id: int, day: dt.date) -> QuerySet[MrrMovement]:
    return (
        MrrMovement.objects.filter(account_id=account_id, date__lte=day)
        .order_by("date")
        .values_list("date", "amount")
    )


def mrr_history_by_month(
    *, account: Account, months: int = 12, today: dt.date | None = None
) -> list[MonthMrr]:
    """The account's MRR at the end of each of the last ``months`` months, oldest first."""
    today = today or timezone.localdate()
    movements = _movements_until(account_id=account.pk, day=today)
    first = today.replace(day=1)
    starts = []
    for _i in range(months):
        starts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    starts.reverse()
    result: list[MonthMrr] = []
    previous = None
    for start in starts:
        next_start = (start + dt.timedelta(days=32)).replace(day=1)
        end = min(next_start - dt.timedelta(days=1), today)
        mrr = sum((amount for day, amount in movements if day <= end), Decimal("0"))
        if previous is None:
            previous = sum((amount for day, amount in movements if day < start), Decimal("0"))
        result.append(MonthMrr(month=start, mrr=mrr, change=mrr - previous))
        previous = mrr
    return result


# ---------------------------------------------------------------- usage


@dataclass(frozen=True)
class UsageSummary:
    events_last_30: int
    events_prior_30: int
    active_users_last_30: int
    active_users_prior_30: int

    @staticmethod
    def _change(now: int, before: int) -> float | None:
        if before == 0:
            return None
        return (now - before) / before * 100

    @property
    def events_change(self) -> float | None:
        return self._change(self.events_last_30, self.events_prior_30)

    @property
    def active_users_change(self) -> float | None:
        return self._change(self.active_users_last_30, self.active_users_prior_30)

    @property
    def has_data(self) -> bool:
        return bool(self.events_last_30 or self.events_prior_30)


def usage_summary(*, account: Account, now: dt.datetime | None = None) -> UsageSummary:
    """Events and distinct active contacts over the last 30 days against the 30 before. One query."""
    now = now or timezone.now()
    rows = _usage_counts(
        account_id=account.pk, start=now - dt.timedelta(days=60), mid=now - dt.timedelta(days=30), now=now
    )
    return UsageSummary(*(rows[0] if rows else (0, 0, 0, 0)))


@prepared
def _usage_counts(account_id: int, start: dt.datetime, mid: dt.datetime, now: dt.datetime) -> QuerySet:
    last = Q(occurred_at__gt=mid)
    prior = Q(occurred_at__lte=mid)
    return (
        UsageEvent.objects.filter(account_id=account_id, occurred_at__gt=start, occurred_at__lte=now)
        .values("account_id")
        .annotate(
            events_last_30=Count("occurred_at", filter=last),
            events_prior_30=Count("occurred_at", filter=prior),
            active_users_last_30=Count("contact", filter=last, distinct=True),
            active_users_prior_30=Count("contact", filter=prior, distinct=True),
        )
        .order_by()
        .values_list("events_last_30", "events_prior_30", "active_users_last_30", "active_users_prior_30")
    )


# ---------------------------------------------------------------- timeline


@dataclass
class TimelineEntry:
    """One line of an account's timeline, whatever its source."""

    kind: str  # source name, e.g. "touchpoint", "usage"
    occurred_at: dt.datetime
    key: int  # the source row's id (or a stable number), to order entries of equal time
    title: str
    body: str = ""
    icon: str = ""
    actor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[dt.datetime, str, int]:
        return (self.occurred_at, self.kind, self.key)

    @property
    def cursor(self) -> str:
        return f"{self.occurred_at.isoformat()}|{self.kind}|{self.key}"


Cursor = tuple[dt.datetime, str, int]
# A source gives the newest ``limit`` entries of one account strictly before ``cursor``.
TimelineSource = Callable[[Account, Cursor | None, int], Iterable[TimelineEntry]]
TIMELINE_SOURCES: dict[str, TimelineSource] = {}


def timeline_source(kind: str) -> Callable[[TimelineSource], TimelineSource]:
    """Register a source of timeline entries. Later apps (surveys, onboarding, loyalty) add theirs."""

    def register(func: TimelineSource) -> TimelineSource:
        TIMELINE_SOURCES[kind] = func
        return func

    return register


def cursor_parse(value: str | None) -> Cursor | None:
    if not value:
        return None
    try:
        when, kind, key = value.rsplit("|", 2)
        parsed = dt.datetime.fromisoformat(when)
        if timezone.is_naive(parsed):
            return None
        return (parsed, kind, int(key))
    except (TypeError, ValueError):
        return None


def _before(cursor: Cursor | None, kind: str, time_field: str, key_field: str) -> Q:
    """Rows strictly before the cursor in (time, kind, key) order, for one source."""
    if cursor is None:
        return Q()
    when, cursor_kind, cursor_key = cursor
    earlier = Q(**{f"{time_field}__lt": when})
    if kind < cursor_kind:
        return earlier | Q(**{time_field: when})
    if kind == cursor_kind:
        return earlier | Q(**{time_field: when, f"{key_field}__lt": cursor_key})
    return earlier


TIMELINE_PAGE = 20  # entries on a page of the timeline; each source is asked for one more
_first_pages: dict[Callable, PreparedQuery] = {}


def timeline_rows(
    build: Callable[[int, Cursor | None, int], QuerySet],
    *,
    account: Account,
    cursor: Cursor | None,
    limit: int,
) -> list:
    """A timeline source's rows: ``build(account_id, cursor, limit)``'s queryset. The first page
    (the one every account 360 asks for) runs it as a query compiled once (``cs_app.prepared``)."""
    if cursor is not None or limit != TIMELINE_PAGE + 1:
        return list(build(account.pk, cursor, limit))
    first = _first_pages.get(build)
    if first is None:

        def first_page(account_id: int) -> QuerySet:
            return build(account_id, None, TIMELINE_PAGE + 1)

        first_page.__qualname__ = f"{build.__qualname__} (first page)"
        first = _first_pages.setdefault(build, prepared(first_page))
    return first(account_id=account.pk)


def _touchpoint_rows(account_id: int, cursor: Cursor | None, limit: int) -> QuerySet[Touchpoint]:
    return (
        Touchpoint.objects.filter(account_id=account_id)
        .filter(_before(cursor, "touchpoint", "occurred_at", "id"))
        .select_related("author", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )


@timeline_source("touchpoint")
def _touchpoints(account: Account, cursor: Cursor | None, limit: int) -> Iterable[TimelineEntry]:
    rows = timeline_rows(_touchpoint_rows, account=account, cursor=cursor, limit=limit)
    for tp in rows:
        who = tp.contact.name if tp.contact else ""
        yield TimelineEntry(
            kind="touchpoint",
            occurred_at=tp.occurred_at,
            key=tp.pk,
            title=tp.get_kind_display() + (f" · {who}" if who else ""),
            body=tp.summary,
            icon=tp.kind,
            actor=str(tp.author) if tp.author else "",
        )


@timeline_source("usage")
def _usage_weeks(account: Account, cursor: Cursor | None, limit: int) -> Iterable[TimelineEntry]:
    """Weekly usage highlights: events and active users per week, with the change on the week before.

    Reads only the weeks a page can show: ``limit + 2`` weeks back from the cursor (or now), so
    the query costs the same after years of history. When usage has a gap there, a second query
    takes the weeks before it."""
    qs = UsageEvent.objects.filter(account=account)
    if cursor is not None:
        # A week is shown at its start; weeks starting before the cursor (or equal, by key) qualify.
        qs = qs.filter(occurred_at__lt=cursor[0] + dt.timedelta(days=7))
    anchor = timezone.localtime(cursor[0] if cursor is not None else timezone.now())
    monday = (anchor - dt.timedelta(days=anchor.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    since = monday - dt.timedelta(weeks=limit + 2)  # a week's start: whole weeks only

    def newest_weeks(events, count: int) -> list[dict]:
        return list(_weeks(events, count))

    if cursor is None and limit == TIMELINE_PAGE + 1:
        weeks = _first_weeks(account_id=account.pk, since=since)
    else:
        weeks = newest_weeks(qs.filter(occurred_at__gte=since), limit + 2)
    if len(weeks) < limit + 2:
        weeks += newest_weeks(qs.filter(occurred_at__lt=since), limit + 2 - len(weeks))
    entries = []
    for index, row in enumerate(weeks):
        week = row["week"]
        key = int(week.timestamp())
        if cursor is not None and (week, "usage", key) >= cursor:
            continue
        previous = weeks[index + 1] if index + 1 < len(weeks) else None
        change = None
        if previous and previous["week"] == week - dt.timedelta(days=7) and previous["events"]:
            change = (row["events"] - previous["events"]) / previous["events"] * 100
        events = ngettext("%(n)s event", "%(n)s events", row["events"]) % {"n": f"{row['events']:,}"}
        if row["users"]:
            users = ngettext("%(n)s active user", "%(n)s active users", row["users"]) % {"n": row["users"]}
            title = _("Usage: %(events)s by %(users)s") % {"events": events, "users": users}
        else:  # events not tied to a known contact
            title = _("Usage: %(events)s") % {"events": events}
        body = ""
        previous_events = previous["events"] if previous else 0
        if change is not None and abs(change) >= 25 and abs(row["events"] - previous_events) >= 5:
            body = (
                _("Up %(pct).0f%% on the week before")
                if change > 0
                else _("Down %(pct).0f%% on the week before")
            ) % {"pct": abs(change)}
        entries.append(
            TimelineEntry(
                kind="usage",
                occurred_at=week,
                key=key,
                title=title,
                body=body,
                icon="usage",
                extra={"events": row["events"], "users": row["users"], "change": change},
            )
        )
    return entries[:limit]


def _weeks(events: QuerySet[UsageEvent], count: int) -> QuerySet:
    return (
        events.annotate(week=TruncWeek("occurred_at"))
        .values("week")
        .annotate(events=Count("occurred_at"), users=Count("contact", distinct=True))
        .order_by("-week")[:count]
    )


@prepared
def _first_weeks(account_id: int, since: dt.datetime) -> QuerySet:
    """The first page's usage weeks (the timeline asks for TIMELINE_PAGE + 1, plus 1 more)."""
    return _weeks(UsageEvent.objects.filter(account_id=account_id, occurred_at__gte=since), TIMELINE_PAGE + 3)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def account_timeline(
    *, account: Account, cursor: str | None = None, limit: int = TIMELINE_PAGE
) -> TimelinePage:
    """Every source's entries for the account, merged newest first, one page at a time.

    Each source runs one or two queries per page, whatever the size of the history.
    """
    parsed = cursor_parse(cursor)
    merged: list[TimelineEntry] = []
    for source in TIMELINE_SOURCES.values():
        merged.extend(source(account, parsed, limit + 1))
    merged.sort(key=lambda entry: entry.sort_key, reverse=True)
    page = merged[:limit]
    next_cursor = page[-1].cursor if len(merged) > limit else None
    return TimelinePage(entries=page, next_cursor=next_cursor)


# ---------------------------------------------------------------- portfolio


def accounts_total() -> int:
    """How many accounts there are, as COUNT(*) would say. PostgreSQL: the sum of the tally that
    triggers keep (accounts migration 0004), a row or two instead of 100,000 index entries;
    elsewhere COUNT(*). One query."""
    if connection.vendor != "postgresql":
        return Account.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(n), 0) FROM accounts_account_tally")
        return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class PortfolioFilters:
    q: str = ""
    segment: str = ""
    tier: str = ""
    stage: str = ""
    renewal_within: int | None = None
    owner_id: int | None = None
    grade: str = ""  # health grade: green, yellow, red, or "none" (no score yet)
    trend: str = ""  # "falling" / "rising": 7-day score change of 5 points or more
    ordering: tuple[str, ...] = ("name", "pk")
    health_sort: str = ""  # a key of HEALTH_SORTS, "-" first for descending: replaces ``ordering``

    @property
    def selects_all(self) -> bool:
        """No filter at all (sorting aside): every account the user may see."""
        return not (
            self.q
            or self.segment
            or self.tier
            or self.stage
            or self.renewal_within
            or self.owner_id
            or self.grade
            or self.trend
        )


# Sorts by the current health (health.AccountHealth): the sort key → the health fields, in order.
# Ascending is worst first; accounts without a value come last either way, in id order.
HEALTH_SORTS: dict[str, tuple[str, ...]] = {
    "score": ("score",),
    "grade": ("grade_order", "score"),
    "trend": ("change_7d",),
}


class _PagedRows(ABC):
    """A sequence the paginator can count and slice: a subclass gives ``count()`` and
    ``rows(start, stop)``, the queries for one page."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def rows(self, start: int, stop: int | None) -> list[Account]: ...

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        return self.rows(index.start or 0, index.stop)


class HealthSortedRows(_PagedRows):
    """Accounts sorted by a current-health value, those without one last, as a sequence the
    paginator can count and slice (``_PagedRows``).

    One ORDER BY across the LEFT JOIN (``score NULLS LAST``) would make PostgreSQL join and sort
    every account to show 25. Instead the accounts with a value are read in the order of the
    health table's index (an inner join: the first page of 100,000 accounts reads 25 index
    entries), and the accounts without one, in id order, only by the pages that reach them. So a
    page costs one query (two where the two parts meet, three beyond), never more.

    ``owner_id``: the accounts are that owner's and no other filter applies (a CSM's portfolio,
    or a manager's filtered by owner). On PostgreSQL the page's account ids then come from the
    same index alone, which carries each row's owner (health migration 0008), in a subquery: the
    planner cannot tell that the account's owner and the health row's always agree, and joined
    it would expect a handful of rows and sort them all. The outer query still keeps only the
    accounts the user may see.
    """

    def __init__(
        self,
        accounts: QuerySet[Account],
        fields: tuple[str, ...],
        *,
        descending: bool,
        owner_id: int | None = None,
    ):
        from health.models import AccountHealth  # health builds on accounts, not the reverse

        def direction(expression):
            return expression.desc() if descending else expression.asc()

        has_value = {f"{fields[0]}__isnull": False}
        self.accounts = accounts
        self.scored = accounts.filter(**{f"health__{k}": v for k, v in has_value.items()}).order_by(
            *(direction(F(f"health__{name}")) for name in fields), direction(F("id"))
        )
        valued = AccountHealth.objects.filter(account=OuterRef("pk"), **has_value)
        self.unscored = accounts.filter(~Exists(valued)).order_by(direction(F("id")))
        self.owned_ids = None
        if owner_id is not None and connection.vendor == "postgresql":
            self.owned_ids = (
                AccountHealth.objects.filter(owner_id=owner_id, **has_value)
                .order_by(*(direction(F(name)) for name in fields), direction(F("account_id")))
                .values("account_id")
            )

    def count(self) -> int:
        return self.accounts.order_by().count()

    def _scored(self, start: int, stop: int | None) -> list[Account]:
        if self.owned_ids is None or stop is None:
            return list(self.scored[start:stop])
        return list(self.scored.filter(pk__in=self.owned_ids[start:stop]))

    def rows(self, start: int, stop: int | None) -> list[Account]:
        rows = self._scored(start, stop)
        wanted = None if stop is None else stop - start
        if wanted is not None and len(rows) >= wanted:
            return rows
        # The scored accounts ran out on this page: the unscored ones follow, from the first when
        # this page holds the last scored ones, else after as many as the earlier pages showed.
        skip = 0 if rows or not start else max(start - self.scored.order_by().count(), 0)
        end = None if wanted is None else skip + wanted - len(rows)
        return rows + list(self.unscored[skip:end])


class SearchRows(_PagedRows):
    """A search's matches, sorted, as a sequence the paginator can count and slice
    (``_PagedRows``), in two queries: the ids of every match in order (one pass over the rows
    the trigram indexes find, which is also the count), then the page's accounts by id with
    their joins.

    Counting, then sorting the page's rows with their owner and health joined, read the matches
    twice and joined all of them before the sort ("north" on 100,000 accounts, 1,453 matches:
    8.5 ms; this: 2.8 ms). A search matching more than ``CAP`` accounts (a term of a letter or
    two) counts and pages in the database as before.
    """

    CAP = 5000

    def __init__(self, accounts: QuerySet[Account], ordering: tuple):
        self.accounts = accounts
        self.ordering = ordering
        self._ids: list[int] | None = None

    def _matching_ids(self) -> list[int]:
        if self._ids is None:
            sorted_ids = self.accounts.order_by(*self.ordering).values_list("pk", flat=True)
            self._ids = list(sorted_ids[: self.CAP + 1])
        return self._ids

    def count(self) -> int:
        ids = self._matching_ids()
        return len(ids) if len(ids) <= self.CAP else self.accounts.order_by().count()

    def rows(self, start: int, stop: int | None) -> list[Account]:
        ids = self._matching_ids()
        if len(ids) > self.CAP and (stop is None or stop > self.CAP):
            return list(self.accounts.order_by(*self.ordering)[start:stop])
        page_ids = ids[start:stop]
        by_id = self.accounts.order_by().in_bulk(page_ids)
        return [by_id[pk] for pk in page_ids if pk in by_id]


def portfolio_rows(
    *, user, filters: PortfolioFilters, today: dt.date | None = None
) -> QuerySet[Account] | HealthSortedRows | SearchRows:
    """The accounts a user may see, filtered and sorted; one query for a page of any size (a
    health sort: see HealthSortedRows; a search: SearchRows, two)."""
    today = today or timezone.localdate()
    # "health" is the one-to-one current score row (health.AccountHealth): a join, not a query.
    qs = Account.objects.visible_to(user).select_related("owner", "health")
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(domain__icontains=filters.q))
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.tier:
        qs = qs.filter(tier=filters.tier)
    if filters.stage:
        qs = qs.filter(lifecycle_stage=filters.stage)
    if filters.renewal_within:
        qs = qs.filter(
            renewal_date__gte=today,
            renewal_date__lte=today + dt.timedelta(days=filters.renewal_within),
        )
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.grade == "none":
        qs = qs.filter(Q(health__isnull=True) | Q(health__score__isnull=True))
    elif filters.grade:
        qs = qs.filter(health__grade=filters.grade)
    if filters.trend == "falling":
        qs = qs.filter(health__change_7d__lte=-5)
    elif filters.trend == "rising":
        qs = qs.filter(health__change_7d__gte=5)
    key = filters.health_sort.lstrip("-")
    if key in HEALTH_SORTS:
        owner_only = not (
            filters.q
            or filters.segment
            or filters.tier
            or filters.stage
            or filters.renewal_within
            or filters.grade
            or filters.trend
        )
        owner_id = visible_owner(user)
        if owner_id is None:  # sees every account: the owner filter, if any, narrows the walk
            owner_id = filters.owner_id
        return HealthSortedRows(
            qs,
            HEALTH_SORTS[key],
            descending=filters.health_sort.startswith("-"),
            owner_id=owner_id if owner_only else None,
        )
    if filters.q:
        return SearchRows(qs, filters.ordering)
    return qs.order_by(*filters.ordering)
