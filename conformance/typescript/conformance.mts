// Conformance run of a TypeScript client generated from spec/webhooks.json: openapi-typescript types
// (`./webhooks.js`, generated next to this file by .ci/conformance) driven through openapi-fetch,
// type-checked with `tsc --strict`. Drives the whole module against a running server (the emulator in
// CI) and checks the values it gets; a receiver verifies one delivery with the `standardwebhooks`
// library. Exits 1 at the first mismatch.
//
// Usage: node conformance.mjs BASE_URL API_KEY

import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";

import createClient from "openapi-fetch";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

import type { components, paths } from "./webhooks.js";

type Schemas = components["schemas"];
type Client = ReturnType<typeof createClient<paths>>;

// Open enums: a value added later is still a `DeliveryStatus` / `ReplayTaskState`.
export const futureStatus: Schemas["DeliveryStatus"] = "some_future_status";
export const futureState: Schemas["ReplayTaskState"] = "paused";
// A subscription without `filter_rules`; a nullable rate limit.
export const bare: Schemas["EventSubscriptionRequest"] = { event_name: "invoice.paid" };
export const noLimit: Schemas["WebhookEndpoint"]["rate_limit_config"] = null;

const SNOWFLAKE = /^[0-9]+$/;
let checks = 0;

class Mismatch extends Error {}

function check(condition: boolean, what: string): asserts condition {
  checks += 1;
  if (!condition) throw new Mismatch(what);
}

/** JSON equality: arrays in order, object keys in any order (JSON objects are unordered). */
function equal(actual: unknown, expected: unknown, what: string): void {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  check(isDeepStrictEqual(actual, expected), `${what}: expected ${e}, got ${a}`);
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The 200 answer of `what`. */
function ok<T>(answer: Answer<T>, what: string): T {
  check(
    answer.response.status === 200 && answer.data !== undefined,
    `${what}: expected 200, got ${answer.response.status} ${JSON.stringify(answer.error)}`,
  );
  return answer.data;
}

/** An error answer with `status`, its body the error envelope with the server's message. */
function failure(answer: Answer<unknown>, status: number, message: string | null, what: string): void {
  equal(answer.response.status, status, `${what}: status`);
  const body = answer.error as Schemas["ErrorBody"] | undefined;
  check(Array.isArray(body?.errors), `${what}: the error body is the envelope (${JSON.stringify(body)})`);
  equal(body.errors[0].code, status, `${what}: errors[0].code`);
  if (message !== null) equal(body.errors[0].message, message, `${what}: errors[0].message`);
}

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, seconds = 20): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await attempt();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Mismatch(`${what}: not reached within ${seconds} s`);
}

type Delivery = { headers: Record<string, string>; body: string };

/** An HTTP server on 127.0.0.1 that answers 200 and keeps every delivery it gets. */
class Receiver {
  private readonly queue: Delivery[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      this.queue.push({ headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  next(what: string): Promise<Delivery> {
    return eventually(`${what}: the receiver gets it`, async () => this.queue.shift());
  }

  close(): void {
    this.server.close();
  }
}

async function run(baseUrl: string, apiKey: string, receiver: Receiver): Promise<void> {
  const client: Client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  const tag = randomUUID().replaceAll("-", "").slice(0, 10);

  // 401: a wrong key.
  const intruder = createClient<paths>({ baseUrl, headers: { Authorization: "Bearer not-the-key" } });
  failure(await intruder.GET("/webhooks/apps"), 401, null, "list apps with a wrong key");

  // Catalog.
  const catalogSlug = `conformance_ts_${tag}`;
  const catalog = ok(
    await client.POST("/webhooks/event-catalogs", {
      body: {
        slug: catalogSlug,
        name: "Conformance",
        events: [
          {
            name: "invoice.paid",
            description: "An invoice was paid.",
            schema: { type: "object", properties: { amount: { type: "integer" } } },
          },
          { name: "invoice.failed", description: "A payment failed.", group: "invoices" },
        ],
      },
    }),
    "create catalog",
  );
  equal(catalog.slug, catalogSlug, "catalog.slug");
  equal(catalog.events.map((e) => e.name), ["invoice.paid", "invoice.failed"], "catalog event names");
  equal(catalog.events[1].group, "invoices", "catalog.events[1].group");
  equal(catalog.description, null, "catalog.description");

  // App: the slug is normalised; nullable fields arrive as null.
  let app = ok(
    await client.POST("/webhooks/apps", {
      body: { name: "Conformance app", app_slug: ` Conformance TS ${tag}! `, event_catalog_slug: catalogSlug },
    }),
    "create app",
  );
  const slug = `conformance_ts_${tag}`;
  const app_slug = slug;
  equal(app.app_slug, slug, "app.app_slug (normalised)");
  equal(app.description, null, "app.description");
  equal(app.failure_notification_emails, [], "app.failure_notification_emails");
  equal(app.is_active, true, "app.is_active");
  check(app.signing_secret.startsWith("whsec_"), "app.signing_secret starts with whsec_");
  check(SNOWFLAKE.test(app.deployment_id), "app.deployment_id is a numeric string");
  check(!Number.isNaN(Date.parse(app.created_at)), "app.created_at is a date-time");

  app = ok(
    await client.PATCH("/webhooks/apps/{app_slug}", {
      params: { path: { app_slug } },
      body: { description: "Driven by conformance.mts" },
    }),
    "update app",
  );
  equal(app.description, "Driven by conformance.mts", "updated app.description");
  const apps = ok(await client.GET("/webhooks/apps", { params: { query: { search: slug } } }), "list apps");
  equal(apps.data.map((a) => a.app_slug), [slug], "list apps by slug");
  equal([apps.has_more, apps.offset], [false, 0], "apps page envelope");
  const fetched = ok(await client.GET("/webhooks/apps/{app_slug}", { params: { path: { app_slug } } }), "get app");
  equal(fetched.signing_secret, app.signing_secret, "get app: signing_secret");

  const assigned = ok(
    await client.GET("/webhooks/apps/{app_slug}/catalog", { params: { path: { app_slug } } }),
    "get app catalog",
  );
  equal(assigned.slug, catalogSlug, "the app's catalog");
  const events = ok(
    await client.GET("/webhooks/apps/{app_slug}/events", { params: { path: { app_slug } } }),
    "list events",
  );
  equal(events.events.map((e) => e.event_name), ["invoice.paid", "invoice.failed"], "app events");
  equal(events.events[1].schema, null, "an event without a schema");

  // Endpoint: a subscription without filter_rules; no rate limit is null.
  let endpoint = ok(
    await client.POST("/webhooks/apps/{app_slug}/endpoints", {
      params: { path: { app_slug } },
      body: {
        app_slug,
        url: receiver.url,
        subscriptions: [
          { event_name: "invoice.paid", filter_rules: { amount: { $gte: 100 } } },
          { event_name: "invoice.failed" },
        ],
        headers: { "X-Tenant": "acme" },
        max_retries: 3,
      },
    }),
    "create endpoint",
  );
  const endpoint_id = endpoint.id;
  check(SNOWFLAKE.test(endpoint_id), "endpoint.id is a numeric string");
  equal(endpoint.url, receiver.url, "endpoint.url");
  equal(endpoint.rate_limit_config, null, "endpoint.rate_limit_config");
  equal(endpoint.headers, { "X-Tenant": "acme" }, "endpoint.headers");
  equal([endpoint.max_retries, endpoint.timeout_seconds], [3, 30], "endpoint retries and timeout");
  equal([endpoint.failure_count, endpoint.last_failure_at], [0, null], "endpoint failure fields");
  equal(endpoint.subscriptions, undefined, "create answers the endpoint without subscriptions");

  endpoint = ok(
    await client.PATCH("/webhooks/apps/{app_slug}/endpoints/{endpoint_id}", {
      params: { path: { app_slug, endpoint_id } },
      body: { description: "conformance receiver", headers: { "X-Tenant": "acme", "X-Run": tag } },
    }),
    "update endpoint",
  );
  equal(endpoint.description, "conformance receiver", "updated endpoint.description");
  equal(endpoint.headers, { "X-Tenant": "acme", "X-Run": tag }, "updated endpoint.headers");
  const listed = ok(
    await client.GET("/webhooks/apps/{app_slug}/endpoints", { params: { path: { app_slug } } }),
    "list endpoints",
  );
  equal(listed.data.map((e) => e.id), [endpoint_id], "listed endpoint ids");
  const subscriptions = Object.fromEntries((listed.data[0].subscriptions ?? []).map((s) => [s.event_name, s.filter_rules]));
  equal(subscriptions, { "invoice.paid": { amount: { $gte: 100 } }, "invoice.failed": {} }, "listed subscriptions");

  // Trigger: one delivery, one filtered out.
  const trigger = (payload: unknown) =>
    client.POST("/webhooks/apps/{app_slug}/trigger", {
      params: { path: { app_slug } },
      body: { app_slug, event_name: "invoice.paid", payload },
    });
  const triggered = ok(await trigger({ invoice_id: "inv_1", amount: 4200 }), "trigger");
  equal([triggered.delivered_count, triggered.filtered_count], [1, 0], "trigger counts");
  const delivery_id = triggered.delivery_ids[0];
  check(typeof delivery_id === "string" && SNOWFLAKE.test(delivery_id), "delivery id is a numeric string");
  const skipped = ok(await trigger({ amount: 5 }), "trigger (filtered)");
  equal([skipped.delivered_count, skipped.filtered_count, skipped.delivery_ids], [0, 1, []], "filtered trigger");

  // The receiver verifies the delivery with the Standard Webhooks library.
  let delivery = await receiver.next("the triggered delivery");
  const verified = new Webhook(app.signing_secret).verify(delivery.body, delivery.headers) as {
    type: string;
    data: unknown;
  };
  equal(delivery.headers["webhook-id"], `msg_${delivery_id}`, "webhook-id header");
  equal(verified.type, "invoice.paid", "delivered type");
  equal(verified.data, { invoice_id: "inv_1", amount: 4200 }, "delivered data");
  equal([delivery.headers["x-tenant"], delivery.headers["x-run"]], ["acme", tag], "endpoint headers on the delivery");
  let forged = false;
  try {
    new Webhook(`whsec_${Buffer.alloc(32, 65).toString("base64")}`).verify(delivery.body, delivery.headers);
  } catch (err) {
    forged = err instanceof WebhookVerificationError;
  }
  check(forged, "a delivery does not verify with another secret");

  // Deliveries list and details.
  const row = await eventually("delivery listed as success", async () => {
    const page = ok(
      await client.GET("/webhooks/apps/{app_slug}/deliveries", {
        params: { path: { app_slug }, query: { event_name: "invoice.paid" } },
      }),
      "list deliveries",
    );
    return page.data.find((d) => d.delivery_id === delivery_id && d.status === "success");
  });
  equal([row.endpoint_id, row.event_name, row.app_slug], [endpoint_id, "invoice.paid", slug], "delivery row");
  equal([row.http_status_code, row.attempt_number, row.max_attempts], [200, 1, 3], "delivery row attempt");
  const details = ok(
    await client.GET("/webhooks/apps/{app_slug}/deliveries/{delivery_id}", {
      params: { path: { app_slug, delivery_id } },
    }),
    "get delivery",
  );
  equal(details.status, "success", "details.status");
  equal((details.payload as { data: unknown }).data, { invoice_id: "inv_1", amount: 4200 }, "details.payload.data");
  equal(details.response_body, '{"ok":true}', "details.response_body");
  equal(details.response_headers, null, "details.response_headers (production records none)");

  // Replay by ids, then the task's status. A replay sends the stored envelope as the payload (P3),
  // which a filter on the payload's fields no longer matches: replay a delivery of the unfiltered
  // subscription.
  const failed = ok(
    await client.POST("/webhooks/apps/{app_slug}/trigger", {
      params: { path: { app_slug } },
      body: { app_slug, event_name: "invoice.failed", payload: { invoice_id: "inv_1" } },
    }),
    "trigger invoice.failed",
  );
  const failedId = failed.delivery_ids[0];
  delivery = await receiver.next("the invoice.failed delivery");
  equal(delivery.headers["webhook-id"], `msg_${failedId}`, "invoice.failed webhook-id");
  await eventually("invoice.failed delivery succeeded", async () => {
    const got = ok(
      await client.GET("/webhooks/apps/{app_slug}/deliveries/{delivery_id}", {
        params: { path: { app_slug, delivery_id: failedId } },
      }),
      "get delivery",
    );
    return got.status === "success" ? true : undefined;
  });
  const replay = ok(
    await client.POST("/webhooks/apps/{app_slug}/deliveries/replay", {
      params: { path: { app_slug } },
      body: { delivery_ids: [failedId], idempotency_key: `conformance-ts-${tag}` },
    }),
    "replay by ids",
  );
  equal(replay.status, "queued", "replay.status");
  const task_id = replay.task_id;
  check(typeof task_id === "string" && task_id !== "", "replay.task_id is set");
  const task = await eventually("replay task completed", async () => {
    const status = ok(
      await client.GET("/webhooks/apps/{app_slug}/deliveries/replay/{task_id}", {
        params: { path: { app_slug, task_id } },
      }),
      "replay task status",
    );
    return status.status === "completed" ? status : undefined;
  });
  equal([task.total_count, task.processed, task.replayed_count, task.failed_count], [1, 1, 1, 0], "task counters");
  check(task.completed_at !== null, "task.completed_at is set");
  const tasks = ok(
    await client.GET("/webhooks/apps/{app_slug}/deliveries/replay", { params: { path: { app_slug } } }),
    "list tasks",
  );
  check(tasks.data.some((t) => t.task_id === task_id), "the task is listed");
  delivery = await receiver.next("the replayed delivery");
  const replayed = new Webhook(app.signing_secret).verify(delivery.body, delivery.headers) as {
    type: string;
    data: { data: unknown };
  };
  equal(replayed.type, "invoice.failed", "replayed type");
  equal(replayed.data.data, { invoice_id: "inv_1" }, "replayed envelope (P3)");

  // Statistics, analytics, timeseries.
  const stats = ok(await client.GET("/webhooks/apps/{app_slug}/stats", { params: { path: { app_slug } } }), "stats");
  equal(stats.active_endpoints, 1, "stats.active_endpoints");
  check(stats.total_deliveries >= 1, "stats.total_deliveries counts the delivery");
  const analytics = ok(
    await client.GET("/webhooks/apps/{app_slug}/analytics", { params: { path: { app_slug } } }),
    "analytics",
  );
  check(analytics.successful_deliveries >= 1, "analytics.successful_deliveries");
  equal(
    Object.fromEntries(analytics.top_events.map((e) => [e.event_name, e.count])),
    { "invoice.failed": 2, "invoice.paid": 1 },
    "analytics.top_events (the replay is a delivery of its own)",
  );
  equal(analytics.endpoint_performance[0].endpoint_id, endpoint_id, "analytics.endpoint_performance[0]");
  check(typeof analytics.avg_response_time_ms === "number", "analytics.avg_response_time_ms is a number");
  const series = ok(
    await client.GET("/webhooks/apps/{app_slug}/timeseries", {
      params: { path: { app_slug }, query: { interval: "hour" } },
    }),
    "timeseries",
  );
  equal(series.interval, "hour", "timeseries.interval");
  check(series.data.reduce((n, p) => n + p.total_deliveries, 0) >= 2, "timeseries counts both deliveries");

  // Rotate the secret: the next delivery verifies with the new one.
  const rotated = ok(
    await client.POST("/webhooks/apps/{app_slug}/rotate-secret", { params: { path: { app_slug } } }),
    "rotate secret",
  );
  check(rotated.signing_secret !== app.signing_secret, "rotate: a new secret");
  ok(await trigger({ invoice_id: "inv_2", amount: 300 }), "trigger after rotation");
  delivery = await receiver.next("the delivery after rotation");
  const afterRotation = new Webhook(rotated.signing_secret).verify(delivery.body, delivery.headers) as { data: unknown };
  equal(afterRotation.data, { invoice_id: "inv_2", amount: 300 }, "delivery signed with the new secret");

  // Errors: 404, 400 with the server's message, 422.
  failure(
    await client.GET("/webhooks/apps/{app_slug}", { params: { path: { app_slug: `missing_${tag}` } } }),
    404,
    "Webhook app not found",
    "get unknown app",
  );
  failure(
    await client.POST("/webhooks/apps/{app_slug}/endpoints", {
      params: { path: { app_slug } },
      body: { app_slug, url: receiver.url, subscriptions: [{ event_name: "nope.event" }] },
    }),
    400,
    `Unknown event 'nope.event' for app '${slug}'`,
    "subscribe to an unknown event",
  );
  // An ill-typed body, which the types refuse to build: sent past them on purpose.
  const illTyped = { name: 42 } as unknown as Schemas["CreateWebhookAppRequest"];
  failure(await client.POST("/webhooks/apps", { body: illTyped }), 422, "Invalid request payload", "ill-typed body");

  // Deletes answer {}.
  const deletedEndpoint = ok(
    await client.DELETE("/webhooks/apps/{app_slug}/endpoints/{endpoint_id}", {
      params: { path: { app_slug, endpoint_id } },
    }),
    "delete endpoint",
  );
  equal(deletedEndpoint, {}, "delete endpoint answers {}");
  const deletedApp = ok(
    await client.DELETE("/webhooks/apps/{app_slug}", { params: { path: { app_slug } } }),
    "delete app",
  );
  equal(deletedApp, {}, "delete app answers {}");
  failure(
    await client.GET("/webhooks/apps/{app_slug}", { params: { path: { app_slug } } }),
    404,
    "Webhook app not found",
    "get deleted app",
  );
}

async function main(): Promise<number> {
  const [baseUrl, apiKey] = process.argv.slice(2);
  if (!baseUrl || !apiKey) {
    console.error("usage: node conformance.mjs BASE_URL API_KEY");
    return 2;
  }
  const started = Date.now();
  const receiver = new Receiver();
  await receiver.start();
  try {
    await run(baseUrl, apiKey, receiver);
  } catch (err) {
    if (err instanceof Mismatch || err instanceof WebhookVerificationError) {
      console.error(`typescript conformance: MISMATCH after ${checks} checks: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    receiver.close();
  }
  console.log(`typescript conformance: ${checks} checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = await main();
