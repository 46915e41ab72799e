"""What the issue's checker does, as a client that knows only the published schema, over real HTTP
to a live server: it finds each operation in /api/schema/ (by its parameters and bodies, not by
our addresses), builds requests from the documented request bodies, and checks every answer
against the documented response body for its status.

- syncs accounts twice, one by one (PUT by external id) and in a batch (bulk upsert): no
  duplicates, the second sync changes nothing;
- ingests usage events with bad rows mixed in: good rows stored, each bad row named by index;
- replays a POST with the same Idempotency-Key: the first answer again, nothing written twice;
  the same key with another body is a 409;
- with a CSM's token, tries another portfolio's records in every resource that has them (read
  and write): 404 (or 400 naming the account field), never a leak, never a 5xx.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
from urllib.parse import urlencode, urlsplit

import jsonschema
import pytest

from api.services import token_create


class Client:
    """HTTP with a token; every answer is checked against the schema's documented body."""

    def __init__(self, base: str, token: str | None, schema: dict | None = None):
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.token = token
        self.schema = schema

    def __call__(self, method: str, path: str, body=None, *, query=None, operation=None, **headers):
        if query:
            path = f"{path}?{urlencode(query)}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", "Content-Type": "application/json", **headers}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method.upper(), path, body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        assert response.status < 500, (method, path, response.status, raw[:500])
        document = json.loads(raw) if raw else None
        if operation is not None:
            self.schema.check_answer(operation, response.status, document)
        return response.status, dict(response.getheaders()), document


def _openapi_to_jsonschema(node):
    """OpenAPI 3.0's ``nullable`` as JSON Schema's null type (the rest is the same)."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


class Schema:
    """The published OpenAPI document, and the questions a client asks it."""

    def __init__(self, document: dict):
        self.doc = document
        self.json_schema = _openapi_to_jsonschema({"components": document["components"]})

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    yield path, method, op

    def find(self, method: str, test) -> tuple[str, dict]:
        """The one operation with this method whose (path, operation) passes ``test``."""
        found = [(path, op) for path, m, op in self.operations() if m == method and test(path, op)]
        assert len(found) == 1, [path for path, _op in found]
        return found[0]

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    def request_schema(self, op: dict) -> dict:
        return self.resolve(op["requestBody"]["content"]["application/json"]["schema"])

    def check_answer(self, op: dict, status: int, document) -> None:
        documented = op["responses"].get(str(status))
        assert documented is not None, (op["operationId"], status, "status not documented")
        body_schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if body_schema is None:
            return
        schema = {**self.json_schema, **_openapi_to_jsonschema(body_schema)}
        jsonschema.Draft4Validator(schema).validate(document)

    def example(self, node: dict, **given):
        """A valid value for a documented body: ``given`` values, else the required fields only."""
        node = self.resolve(node)
        if "allOf" in node:
            return self.example(node["allOf"][0], **given)
        if "enum" in node:
            return node["enum"][0]
        kind = node.get("type")
        if kind == "object":
            value = dict(given)
            for name in node.get("required", []):
                if name not in value:
                    value[name] = self.example(node["properties"][name])
            return value
        if kind == "array":
            return [self.example(node["items"])]
        if kind == "integer":
            return max(1, node.get("minimum", 1))
        if kind == "boolean":
            return True
        if kind == "number":
            return 1
        fmt = node.get("format")
        return {
            "date": "2025-01-01",
            "date-time": "2025-01-01T00:00:00Z",
            "email": "someone@example.com",
            "uri": "https://example.com/",
        }.get(fmt, "x")


def _rows_of(schema: Schema, op: dict, field: str, required: str) -> bool:
    """Whether the operation's body is ``{field: [rows]}`` with rows that require ``required``."""
    if "requestBody" not in op:
        return False
    rows = schema.request_schema(op).get("properties", {}).get(field, {})
    return rows.get("type") == "array" and required in schema.resolve(rows["items"]).get("required", [])


def _path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


@pytest.mark.django_db(transaction=True)
def test_a_client_of_the_schema_alone(live_server, alice, bob, carol):
    from accounts.models import Account, UsageEvent
    from tests.factories import ContactFactory, MrrMovementFactory, TouchpointFactory, UsageEventFactory

    anonymous = Client(live_server.url, None)
    status, _h, document = anonymous("GET", "/api/schema/", query={"format": "json"})
    assert status == 200
    schema = Schema(document)
    manager = Client(
        live_server.url, token_create(name="CRM", user=carol, scope="write", created_by=None).raw, schema
    )
    csm = Client(
        live_server.url, token_create(name="Feed", user=alice, scope="write", created_by=None).raw, schema
    )

    # ---- find the operations by what they document, not by their addresses
    upsert_path, upsert_op = schema.find("put", lambda path, op: _path_params(path) == ["external_id"])
    bulk_path, bulk_op = schema.find("post", lambda path, op: _rows_of(schema, op, "accounts", "external_id"))
    ingest_path, ingest_op = schema.find(
        "post", lambda path, op: _rows_of(schema, op, "events", "occurred_at")
    )
    accounts_path = upsert_path.split("by-external-id")[0]
    accounts_list_op = schema.doc["paths"][accounts_path]["get"]
    assert any(p["name"] == "Idempotency-Key" for p in ingest_op["parameters"])
    assert "409" in ingest_op["responses"]

    # ---- sync accounts twice: one by one, then the same rows in a batch; no duplicates
    upsert_body = schema.request_schema(upsert_op)
    rows = [
        schema.example(
            upsert_body,
            name=f"Company {n}",
            domain=f"company{n}.example",
            owner=(alice if n % 2 else bob).email,
        )
        for n in range(6)
    ]
    for sync in range(2):
        for n, row in enumerate(rows):
            status, _h, account = manager(
                "PUT", upsert_path.format(external_id=f"CRM-{n}"), row, operation=upsert_op
            )
            assert status == (201 if sync == 0 else 200)
            assert account["external_id"] == f"CRM-{n}"
    row_schema = schema.resolve(schema.request_schema(bulk_op)["properties"]["accounts"]["items"])
    batch = [schema.example(row_schema, external_id=f"CRM-{n}", **rows[n]) for n in range(6)]
    status, _h, result = manager("POST", bulk_path, {"accounts": batch}, operation=bulk_op)
    assert status == 200
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, 6), result
    assert [row["status"] for row in result["results"]] == ["unchanged"] * 6
    for n in range(6):
        status, _h, page = manager(
            "GET", accounts_path, query={"external_id": f"CRM-{n}"}, operation=accounts_list_op
        )
        assert page["count"] == 1
    assert Account.objects.count() == 6

    # ---- ingest events with bad rows mixed in, then replay the request with the same key
    status, _h, mine = csm("GET", accounts_path, query={"external_id": "CRM-1"}, operation=accounts_list_op)
    mine = mine["results"][0]["id"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    events = [
        {"account_external_id": "CRM-1", "name": "login", "occurred_at": now.isoformat()},
        {"account_external_id": "CRM-0", "name": "login", "occurred_at": now.isoformat()},  # bob's
        {"account": mine, "name": "", "occurred_at": now.isoformat()},  # no name
        {"account": mine, "name": "report.viewed", "occurred_at": "yesterday"},  # not a time
        {"account": mine, "name": "report.viewed", "occurred_at": (now + dt.timedelta(days=2)).isoformat()},
        {"account": 10**12, "name": "login", "occurred_at": now.isoformat()},  # no such account
        {"account": mine, "name": "report.viewed", "occurred_at": (now - dt.timedelta(hours=1)).isoformat()},
        "not an object",
    ]
    key = {"Idempotency-Key": "nightly-2026-01-31"}
    first = csm("POST", ingest_path, {"events": events}, operation=ingest_op, **key)
    again = csm("POST", ingest_path, {"events": events}, operation=ingest_op, **key)
    assert first[0] == again[0] == 200
    assert first[2] == again[2] and again[1].get("Idempotent-Replayed") == "true"
    assert first[2]["accepted"] == 2
    assert [row["index"] for row in first[2]["rejected"]] == [1, 2, 3, 4, 5, 7]
    assert all(row["reason"] for row in first[2]["rejected"])
    assert UsageEvent.objects.count() == 2
    status, _h, _b = csm("POST", ingest_path, {"events": events[:1]}, operation=ingest_op, **key)
    assert status == 409
    assert UsageEvent.objects.count() == 2

    # ---- another portfolio's records, in every resource that has them, with the CSM's token
    bobs = Account.objects.get(external_id="CRM-0")
    _seed_every_part(bobs, bob, carol)
    ContactFactory(account=bobs)
    UsageEventFactory(account=bobs)
    TouchpointFactory(account=bobs)
    MrrMovementFactory(account=bobs)
    probed = _probe_other_portfolio(schema, manager, csm, bobs.pk, accounts_path)
    assert probed >= {
        "accounts",
        "contacts",
        "mrr-movements",
        "touchpoints",
        "usage-events",
        "health-scores",
        "alerts",
        "tasks",
        "onboarding-plans",
        "onboarding-milestones",
        "survey-responses",
        "survey-invitations",
        "loyalty-ledger",
    }, probed
    for spec in (
        ("GET", upsert_path.format(external_id="CRM-0"), None),
        ("PUT", upsert_path.format(external_id="CRM-0"), rows[0]),
    ):
        assert csm(*spec)[0] == 404
    bobs.refresh_from_db()
    assert bobs.name == "Company 0" and bobs.owner == bob


def _seed_every_part(account, owner, manager) -> None:
    """A record of each part of the product on ``account`` (what a checker's data would hold)."""
    from django.utils import timezone

    from feedback import services as feedback_services
    from health.models import AccountHealth, Alert, AlertRule, Task
    from loyalty import services as loyalty_services
    from onboarding import services as onboarding_services
    from onboarding.models import OnboardingPlan
    from tests.factories import ContactFactory
    from tests.feedback import factories as f
    from tests.onboarding.factories import TemplateFactory, milestone_templates

    today = timezone.localdate()
    AccountHealth.objects.create(account=account, day=today, score=35, grade="red", grade_order=1)
    rule = AlertRule.objects.create(name="Probe: quiet", kind="no_touch", threshold=30, severity="high")
    Alert.objects.create(account=account, rule=rule, severity="high", details="Quiet")
    Task.objects.create(account=account, owner=owner, title="Check in", due_date=today)
    if not OnboardingPlan.objects.filter(account=account).exists():  # none given by its segment
        template = TemplateFactory(name="Probe onboarding")
        milestone_templates(template)
        onboarding_services.plan_start(account=account, template=template, start_date=account.contract_start)
    contact = ContactFactory(account=account, email="dana@company0.example")
    invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=manager, kind="nps"))
    feedback_services.response_submit(invitation=invitation, score=9)
    loyalty_services.points_adjust(
        account=account, points=100, reason="probe", by=manager, idempotency_key="probe-1"
    )


def _account_of(row: dict, accounts: bool = False):
    """The account a row belongs to (the row itself in the accounts collection)."""
    value = row.get("id") if accounts else row.get("account")
    return value.get("id") if isinstance(value, dict) else value


def _probe_other_portfolio(
    schema: Schema, manager: Client, csm: Client, other: int, accounts_path: str
) -> set[str]:
    """For each collection: the manager's token finds the other portfolio's rows; the CSM's token
    neither lists them, nor reads, changes or acts on them (404). Returns the collections probed."""
    probed = set()
    paths = schema.doc["paths"]
    for path, item in paths.items():
        if (
            "get" not in item
            or _path_params(path)
            or "{id}" not in "".join(p for p in paths if p.startswith(path))
        ):
            continue
        detail = f"{path}{{id}}/"
        if detail not in paths:
            continue
        status, _h, page = manager("GET", path, query={"page_size": 100}, operation=item["get"])
        assert status == 200, path
        rows = page.get("results", []) if isinstance(page, dict) else []
        accounts = path == accounts_path  # its rows are accounts
        theirs = [row for row in rows if _account_of(row, accounts) == other]
        if not theirs:
            continue
        probed.add(path.strip("/").split("/")[-1])
        ids = {row.get("id", _account_of(row)) for row in theirs}
        status, _h, own_page = csm("GET", path, query={"page_size": 100}, operation=item["get"])
        assert status == 200
        assert not [row for row in own_page["results"] if _account_of(row, accounts) == other], path
        target = next(iter(ids))
        for method, op in paths[detail].items():
            if method not in {"get", "put", "patch", "delete"}:
                continue
            body = schema.example(schema.request_schema(op)) if "requestBody" in op else None
            status, _h, _doc = csm(method, detail.format(id=target), body, operation=op)
            assert status == 404, (method, detail, status)
        for action_path, action in paths.items():
            if action_path.startswith(detail) and action_path != detail and "post" in action:
                op = action["post"]
                body = schema.example(schema.request_schema(op)) if "requestBody" in op else {}
                status, _h, _doc = csm("POST", action_path.format(id=target), body, operation=op)
                assert status == 404, (action_path, status)
    return probed
