"""Conformance run of a Python client generated from spec/webhooks.json by openapi-python-client.

Drives the whole module through the generated package `wacht_webhooks_api` against a running server
(the emulator in CI) and checks the values it decodes; a receiver verifies one delivery with the
`standardwebhooks` library. Exits 1 at the first mismatch.

Usage: python conformance.py BASE_URL API_KEY
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import queue
import re
import sys
import threading
import time
import uuid
from typing import Any, Callable, TypeVar

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from wacht_webhooks_api import AuthenticatedClient
from wacht_webhooks_api.api.analytics import (
    get_webhook_analytics,
    get_webhook_stats,
    get_webhook_timeseries,
)
from wacht_webhooks_api.api.apps import (
    create_webhook_app,
    delete_webhook_app,
    get_webhook_app,
    list_webhook_apps,
    rotate_webhook_secret,
    update_webhook_app,
)
from wacht_webhooks_api.api.catalogs import create_webhook_event_catalog, get_webhook_catalog
from wacht_webhooks_api.api.deliveries import get_webhook_delivery, list_webhook_deliveries
from wacht_webhooks_api.api.endpoints import (
    create_webhook_endpoint,
    delete_webhook_endpoint,
    list_webhook_endpoints,
    update_webhook_endpoint,
)
from wacht_webhooks_api.api.events import list_webhook_events, trigger_webhook_event
from wacht_webhooks_api.api.replay import (
    get_webhook_replay_task_status,
    list_webhook_replay_tasks,
    replay_webhook_deliveries,
)
from wacht_webhooks_api.models import (
    CreateWebhookAppRequest,
    CreateWebhookEndpointRequest,
    CreateWebhookEndpointRequestHeaders,
    CreateWebhookEventCatalogRequest,
    EmptyObject,
    ErrorBody,
    EventSubscriptionRequest,
    ReplayDeliveriesByIds,
    ReplayTaskStatus,
    ReplayTaskStatusPage,
    ReplayWebhookDeliveryResponse,
    TimeseriesInterval,
    TriggerWebhookEventRequest,
    TriggerWebhookEventResponse,
    UpdateWebhookAppRequest,
    UpdateWebhookEndpointRequest,
    UpdateWebhookEndpointRequestHeadersType0,
    WebhookAnalytics,
    WebhookApp,
    WebhookAppEventList,
    WebhookAppPage,
    WebhookDelivery,
    WebhookDeliveryDetails,
    WebhookDeliveryPage,
    WebhookEndpoint,
    WebhookEndpointPage,
    WebhookEventCatalog,
    WebhookEventDefinition,
    WebhookStats,
    WebhookTimeseries,
)
from wacht_webhooks_api.types import Response, Unset

T = TypeVar("T")
SNOWFLAKE = re.compile(r"^[0-9]+$")
checks = 0


class Mismatch(Exception):
    """A value the server sent (or a behaviour) differs from what the spec promises."""


def check(condition: bool, what: str) -> None:
    global checks
    checks += 1
    if not condition:
        raise Mismatch(what)


def equal(actual: Any, expected: Any, what: str) -> None:
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def ok(response: Response[Any], model: type[T], what: str) -> T:
    """The 200 answer of `what`, decoded by the generated client as `model`."""
    check(
        response.status_code == 200 and isinstance(response.parsed, model),
        f"{what}: expected 200 {model.__name__}, got {response.status_code} {response.content[:300]!r}",
    )
    return response.parsed  # type: ignore[return-value]


def error(response: Response[Any], status: int, message: str | None, what: str) -> None:
    """An error answer: `status`, decoded as the error envelope, with the server's message."""
    equal(response.status_code, status, f"{what}: status")
    body = response.parsed
    check(isinstance(body, ErrorBody), f"{what}: the error body decodes as ErrorBody ({response.content!r})")
    equal(body.errors[0].code, status, f"{what}: errors[0].code")
    if message is not None:
        equal(body.errors[0].message, message, f"{what}: errors[0].message")


def eventually(what: str, attempt: Callable[[], T | None], seconds: float = 20.0) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = attempt()
        if value is not None:
            return value
        time.sleep(0.05)
    raise Mismatch(f"{what}: not reached within {seconds} s")


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 and keeps every delivery it gets."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        received = self.deliveries

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                answer = b'{"ok":true}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def next(self, what: str) -> tuple[dict[str, str], bytes]:
        try:
            return self.deliveries.get(timeout=20)
        except queue.Empty:
            raise Mismatch(f"{what}: the receiver got no delivery within 20 s") from None


def run(base_url: str, api_key: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=api_key, raise_on_unexpected_status=True)
    receiver = Receiver()
    tag = uuid.uuid4().hex[:10]

    # 401: a wrong key.
    intruder = AuthenticatedClient(base_url=base_url, token="not-the-key")
    error(list_webhook_apps.sync_detailed(client=intruder), 401, None, "list apps with a wrong key")

    # Catalog.
    catalog_slug = f"conformance_{tag}"
    catalog = ok(
        create_webhook_event_catalog.sync_detailed(
            client=client,
            body=CreateWebhookEventCatalogRequest(
                slug=catalog_slug,
                name="Conformance",
                events=[
                    WebhookEventDefinition(
                        name="invoice.paid",
                        description="An invoice was paid.",
                        schema={"type": "object", "properties": {"amount": {"type": "integer"}}},
                    ),
                    WebhookEventDefinition(name="invoice.failed", description="A payment failed.", group="invoices"),
                ],
            ),
        ),
        WebhookEventCatalog,
        "create catalog",
    )
    equal(catalog.slug, catalog_slug, "catalog.slug")
    equal([e.name for e in catalog.events], ["invoice.paid", "invoice.failed"], "catalog event names")
    equal(catalog.events[1].group, "invoices", "catalog.events[1].group")
    equal(catalog.description, None, "catalog.description")

    # App: the slug is normalised; nullable fields decode as None.
    app = ok(
        create_webhook_app.sync_detailed(
            client=client,
            body=CreateWebhookAppRequest(
                name="Conformance app", app_slug=f" Conformance {tag}! ", event_catalog_slug=catalog_slug
            ),
        ),
        WebhookApp,
        "create app",
    )
    slug = f"conformance_{tag}"
    equal(app.app_slug, slug, "app.app_slug (normalised)")
    equal(app.description, None, "app.description")
    equal(app.failure_notification_emails, [], "app.failure_notification_emails")
    equal(app.is_active, True, "app.is_active")
    check(app.signing_secret.startswith("whsec_"), "app.signing_secret starts with whsec_")
    check(SNOWFLAKE.match(app.deployment_id) is not None, "app.deployment_id is a numeric string")
    check(isinstance(app.created_at, dt.datetime), "app.created_at decodes as a datetime")

    app = ok(
        update_webhook_app.sync_detailed(
            slug, client=client, body=UpdateWebhookAppRequest(description="Driven by conformance.py")
        ),
        WebhookApp,
        "update app",
    )
    equal(app.description, "Driven by conformance.py", "updated app.description")
    page = ok(list_webhook_apps.sync_detailed(client=client, search=slug), WebhookAppPage, "list apps")
    equal([a.app_slug for a in page.data], [slug], "list apps by slug")
    equal((page.has_more, page.offset), (False, 0), "apps page envelope")
    fetched = ok(get_webhook_app.sync_detailed(slug, client=client), WebhookApp, "get app")
    equal(fetched.signing_secret, app.signing_secret, "get app: signing_secret")

    assigned = ok(get_webhook_catalog.sync_detailed(slug, client=client), WebhookEventCatalog, "get app catalog")
    equal(assigned.slug, catalog_slug, "the app's catalog")
    events = ok(list_webhook_events.sync_detailed(slug, client=client), WebhookAppEventList, "list events")
    equal([e.event_name for e in events.events], ["invoice.paid", "invoice.failed"], "app events")
    equal(events.events[1].schema, None, "an event without a schema")

    # Endpoint: a subscription without filter_rules; no rate limit decodes as None.
    endpoint = ok(
        create_webhook_endpoint.sync_detailed(
            slug,
            client=client,
            body=CreateWebhookEndpointRequest(
                app_slug=slug,
                url=receiver.url,
                subscriptions=[
                    EventSubscriptionRequest(event_name="invoice.paid", filter_rules={"amount": {"$gte": 100}}),
                    EventSubscriptionRequest(event_name="invoice.failed"),
                ],
                headers=CreateWebhookEndpointRequestHeaders.from_dict({"X-Tenant": "acme"}),
                max_retries=3,
            ),
        ),
        WebhookEndpoint,
        "create endpoint",
    )
    check(SNOWFLAKE.match(endpoint.id) is not None, "endpoint.id is a numeric string")
    equal(endpoint.url, receiver.url, "endpoint.url")
    equal(endpoint.rate_limit_config, None, "endpoint.rate_limit_config")
    equal(endpoint.headers, {"X-Tenant": "acme"}, "endpoint.headers")
    equal((endpoint.max_retries, endpoint.timeout_seconds), (3, 30), "endpoint retries and timeout")
    equal((endpoint.failure_count, endpoint.last_failure_at), (0, None), "endpoint failure fields")
    check(isinstance(endpoint.subscriptions, Unset), "create answers the endpoint without subscriptions")

    endpoint = ok(
        update_webhook_endpoint.sync_detailed(
            slug,
            endpoint.id,
            client=client,
            body=UpdateWebhookEndpointRequest(
                description="conformance receiver",
                headers=UpdateWebhookEndpointRequestHeadersType0.from_dict({"X-Tenant": "acme", "X-Run": tag}),
            ),
        ),
        WebhookEndpoint,
        "update endpoint",
    )
    equal(endpoint.description, "conformance receiver", "updated endpoint.description")
    equal(endpoint.headers, {"X-Tenant": "acme", "X-Run": tag}, "updated endpoint.headers")
    listed = ok(list_webhook_endpoints.sync_detailed(slug, client=client), WebhookEndpointPage, "list endpoints")
    equal([e.id for e in listed.data], [endpoint.id], "listed endpoint ids")
    subscriptions = {s.event_name: s.filter_rules for s in listed.data[0].subscriptions}
    equal(subscriptions, {"invoice.paid": {"amount": {"$gte": 100}}, "invoice.failed": {}}, "listed subscriptions")

    # Trigger: one delivery, one filtered out.
    triggered = ok(
        trigger_webhook_event.sync_detailed(
            slug,
            client=client,
            body=TriggerWebhookEventRequest(
                app_slug=slug, event_name="invoice.paid", payload={"invoice_id": "inv_1", "amount": 4200}
            ),
        ),
        TriggerWebhookEventResponse,
        "trigger",
    )
    equal((triggered.delivered_count, triggered.filtered_count), (1, 0), "trigger counts")
    delivery_id = triggered.delivery_ids[0]
    check(SNOWFLAKE.match(delivery_id) is not None, "delivery id is a numeric string")
    skipped = ok(
        trigger_webhook_event.sync_detailed(
            slug,
            client=client,
            body=TriggerWebhookEventRequest(app_slug=slug, event_name="invoice.paid", payload={"amount": 5}),
        ),
        TriggerWebhookEventResponse,
        "trigger (filtered)",
    )
    equal((skipped.delivered_count, skipped.filtered_count, skipped.delivery_ids), (0, 1, []), "filtered trigger")

    # The receiver verifies the delivery with the Standard Webhooks library.
    headers, body = receiver.next("the triggered delivery")
    verified = Webhook(app.signing_secret).verify(body, headers)
    equal(headers["webhook-id"], f"msg_{delivery_id}", "webhook-id header")
    equal(verified["type"], "invoice.paid", "delivered type")
    equal(verified["data"], {"invoice_id": "inv_1", "amount": 4200}, "delivered data")
    equal((headers.get("x-tenant"), headers.get("x-run")), ("acme", tag), "endpoint headers on the delivery")
    try:
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=").verify(body, headers)
        raise Mismatch("a delivery verified with another secret")
    except WebhookVerificationError:
        pass

    # Deliveries list and details.
    def delivered() -> WebhookDelivery | None:
        page = ok(
            list_webhook_deliveries.sync_detailed(slug, client=client, event_name="invoice.paid"),
            WebhookDeliveryPage,
            "list deliveries",
        )
        rows = [d for d in page.data if d.delivery_id == delivery_id and d.status == "success"]
        return rows[0] if rows else None

    row = eventually("delivery listed as success", delivered)
    equal((row.endpoint_id, row.event_name, row.app_slug), (endpoint.id, "invoice.paid", slug), "delivery row")
    equal((row.http_status_code, row.attempt_number, row.max_attempts), (200, 1, 3), "delivery row attempt")
    details = ok(
        get_webhook_delivery.sync_detailed(slug, delivery_id, client=client), WebhookDeliveryDetails, "get delivery"
    )
    equal(details.status, "success", "details.status")
    equal(details.payload["data"], {"invoice_id": "inv_1", "amount": 4200}, "details.payload.data")
    equal(details.response_body, '{"ok":true}', "details.response_body")
    equal(details.response_headers, None, "details.response_headers (production records none)")

    # Replay by ids, then the task's status. A replay sends the stored envelope as the payload (P3),
    # which a filter on the payload's fields no longer matches: replay a delivery of the unfiltered
    # subscription.
    failed = ok(
        trigger_webhook_event.sync_detailed(
            slug,
            client=client,
            body=TriggerWebhookEventRequest(app_slug=slug, event_name="invoice.failed", payload={"invoice_id": "inv_1"}),
        ),
        TriggerWebhookEventResponse,
        "trigger invoice.failed",
    )
    failed_id = failed.delivery_ids[0]
    headers, body = receiver.next("the invoice.failed delivery")
    equal(headers["webhook-id"], f"msg_{failed_id}", "invoice.failed webhook-id")
    eventually(
        "invoice.failed delivery succeeded",
        lambda: ok(
            get_webhook_delivery.sync_detailed(slug, failed_id, client=client), WebhookDeliveryDetails, "get delivery"
        ).status
        == "success"
        or None,
    )
    replay = ok(
        replay_webhook_deliveries.sync_detailed(
            slug,
            client=client,
            body=ReplayDeliveriesByIds(delivery_ids=[failed_id], idempotency_key=f"conformance-{tag}"),
        ),
        ReplayWebhookDeliveryResponse,
        "replay by ids",
    )
    equal(replay.status, "queued", "replay.status")
    task_id = replay.task_id
    check(isinstance(task_id, str) and task_id != "", "replay.task_id is set")

    def finished() -> ReplayTaskStatus | None:
        task = ok(
            get_webhook_replay_task_status.sync_detailed(slug, task_id, client=client),
            ReplayTaskStatus,
            "replay task status",
        )
        return task if task.status == "completed" else None

    task = eventually("replay task completed", finished)
    equal((task.total_count, task.processed, task.replayed_count, task.failed_count), (1, 1, 1, 0), "task counters")
    check(task.completed_at is not None, "task.completed_at is set")
    tasks = ok(list_webhook_replay_tasks.sync_detailed(slug, client=client), ReplayTaskStatusPage, "list tasks")
    check(task_id in [t.task_id for t in tasks.data], "the task is listed")
    headers, body = receiver.next("the replayed delivery")
    replayed = Webhook(app.signing_secret).verify(body, headers)
    equal(replayed["type"], "invoice.failed", "replayed type")
    equal(replayed["data"]["data"], {"invoice_id": "inv_1"}, "replayed envelope (P3)")

    # Statistics, analytics, timeseries.
    stats = ok(get_webhook_stats.sync_detailed(slug, client=client), WebhookStats, "stats")
    equal(stats.active_endpoints, 1, "stats.active_endpoints")
    check(stats.total_deliveries >= 1, "stats.total_deliveries counts the delivery")
    analytics = ok(get_webhook_analytics.sync_detailed(slug, client=client), WebhookAnalytics, "analytics")
    check(analytics.successful_deliveries >= 1, "analytics.successful_deliveries")
    equal(
        {e.event_name: e.count for e in analytics.top_events},
        {"invoice.failed": 2, "invoice.paid": 1},
        "analytics.top_events (the replay is a delivery of its own)",
    )
    equal(analytics.endpoint_performance[0].endpoint_id, endpoint.id, "analytics.endpoint_performance[0]")
    check(isinstance(analytics.avg_response_time_ms, float), "analytics.avg_response_time_ms is a number")
    series = ok(
        get_webhook_timeseries.sync_detailed(slug, client=client, interval=TimeseriesInterval.HOUR),
        WebhookTimeseries,
        "timeseries",
    )
    equal(series.interval, TimeseriesInterval.HOUR, "timeseries.interval")
    check(sum(p.total_deliveries for p in series.data) >= 2, "timeseries counts both deliveries")

    # Open enums: a status this client does not know still decodes.
    future = WebhookDelivery.from_dict({**row.to_dict(), "status": "some_future_status"})
    equal(future.status, "some_future_status", "an unknown delivery status decodes")
    future_task = ReplayTaskStatus.from_dict({**task.to_dict(), "status": "paused"})
    equal(future_task.status, "paused", "an unknown task state decodes")

    # Rotate the secret: the next delivery verifies with the new one.
    rotated = ok(rotate_webhook_secret.sync_detailed(slug, client=client), WebhookApp, "rotate secret")
    check(rotated.signing_secret != app.signing_secret, "rotate: a new secret")
    ok(
        trigger_webhook_event.sync_detailed(
            slug,
            client=client,
            body=TriggerWebhookEventRequest(
                app_slug=slug, event_name="invoice.paid", payload={"invoice_id": "inv_2", "amount": 300}
            ),
        ),
        TriggerWebhookEventResponse,
        "trigger after rotation",
    )
    headers, body = receiver.next("the delivery after rotation")
    after = Webhook(rotated.signing_secret).verify(body, headers)
    equal(after["data"], {"invoice_id": "inv_2", "amount": 300}, "delivery signed with the new secret")

    # Errors: 404, 400 with the server's message, 422.
    error(get_webhook_app.sync_detailed(f"missing_{tag}", client=client), 404, "Webhook app not found", "get unknown app")
    error(
        create_webhook_endpoint.sync_detailed(
            slug,
            client=client,
            body=CreateWebhookEndpointRequest(
                app_slug=slug, url=receiver.url, subscriptions=[EventSubscriptionRequest(event_name="nope.event")]
            ),
        ),
        400,
        f"Unknown event 'nope.event' for app '{slug}'",
        "subscribe to an unknown event",
    )
    raw = client.get_httpx_client().post("/webhooks/apps", json={"name": 42})
    equal(raw.status_code, 422, "ill-typed body: status")
    equal(ErrorBody.from_dict(raw.json()).errors[0].message, "Invalid request payload", "ill-typed body: message")

    # Deletes answer {}.
    ok(delete_webhook_endpoint.sync_detailed(slug, endpoint.id, client=client), EmptyObject, "delete endpoint")
    ok(delete_webhook_app.sync_detailed(slug, client=client), EmptyObject, "delete app")
    error(get_webhook_app.sync_detailed(slug, client=client), 404, "Webhook app not found", "get deleted app")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        run(sys.argv[1], sys.argv[2])
    except (Mismatch, WebhookVerificationError) as mismatch:
        print(f"python conformance: MISMATCH after {checks} checks: {mismatch}", file=sys.stderr)
        return 1
    print(f"python conformance: {checks} checks passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
