// The inspector: a client of the emulator's own API, with the same key as any other client.
// The key comes from the URL fragment (#key=..., never sent to the server) or a prompt, and is
// kept in this tab's sessionStorage only. Everything shown is set as text, never as HTML.
"use strict";

const POLL_MS = 1500;
const KEY_STORE = "wacht-inspector-key";
const state = { app: null, inbox: null, delivery: null, apps: [], overview: null, busy: false, note: "" };

// ---- the API ----

function apiKey() {
  const match = location.hash.match(/key=([^&]+)/);
  if (match) {
    sessionStorage.setItem(KEY_STORE, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
  let key = sessionStorage.getItem(KEY_STORE);
  if (!key) {
    key = prompt("API key of this emulator (the banner printed it; default emulator_key)") || "";
    sessionStorage.setItem(KEY_STORE, key);
  }
  return key;
}

async function api(method, path, body) {
  const init = { method, headers: { Authorization: "Bearer " + apiKey() } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!response.ok) {
    const message = (data && data.message) || (data && data.error) || text || response.statusText;
    const error = new Error(method + " " + path + ": " + response.status + " " + message);
    error.status = response.status;
    throw error;
  }
  return data;
}

const enc = encodeURIComponent;
const appPath = (slug) => "/webhooks/apps/" + enc(slug);

// ---- DOM helpers ----

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "onclick") el.addEventListener("click", value);
    else if (name === "class") el.className = value;
    else if (value !== undefined && value !== null) el.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const $ = (selector) => document.querySelector(selector);
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");
const pretty = (value) => {
  if (typeof value !== "string") return JSON.stringify(value, null, 2);
  try { return JSON.stringify(JSON.parse(value), null, 2); } catch (_) { return value; }
};
const byIdDesc = (a, b) => (b.length - a.length) || (b > a ? 1 : b < a ? -1 : 0);

function showError(error) {
  const banner = $("#error");
  banner.hidden = !error;
  banner.textContent = error ? String(error.message || error) : "";
  if (error && error.status === 401) {
    banner.textContent += " (wrong API key? use \"API key…\" above)";
  }
}

// ---- loading and rendering ----

async function refresh() {
  if (state.busy) return;
  state.busy = true;
  try {
    const [apps, overview] = await Promise.all([
      api("GET", "/webhooks/apps?limit=100"),
      api("GET", "/_inspector/api/overview"),
    ]);
    state.apps = apps.data;
    state.overview = overview;
    if (!state.app && !state.inbox && state.apps.length) state.app = state.apps[0].app_slug;
    renderNav();
    if (state.app) await renderApp();
    if (state.inbox) renderInbox();
    showError(null);
    $("#live").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    showError(error);
  } finally {
    state.busy = false;
  }
}

function renderNav() {
  const behaviour = state.overview.behaviour;
  const badge = $("#behaviour");
  badge.textContent = behaviour + " behaviour · v" + state.overview.version;
  badge.className = "badge " + behaviour;
  $("#apps").replaceChildren(...state.apps.map((app) => h("li", {
    class: app.app_slug === state.app ? "selected" : "",
    "data-app": app.app_slug,
    onclick: () => select({ app: app.app_slug }),
  }, app.name, " ", h("span", { class: "muted" }, app.app_slug))));
  const inboxes = state.overview.inboxes;
  $("#inboxes").replaceChildren(...(inboxes.length ? inboxes.map((inbox) => h("li", {
    class: inbox.name === state.inbox ? "selected" : "",
    "data-inbox": inbox.name,
    onclick: () => select({ inbox: inbox.name }),
  }, inbox.name, " ", h("span", { class: "muted" }, "(" + inbox.total_received + ")"))) :
    [h("li", { class: "muted" }, "none yet: POST to /_inbox/{name}")]));
  $("#empty").hidden = !!(state.app || state.inbox);
  $("#app").hidden = !state.app;
  $("#inbox-view").hidden = !state.inbox;
}

function select(what) {
  state.app = what.app || null;
  state.inbox = what.inbox || null;
  state.delivery = null;
  state.note = "";
  $("#delivery-detail").hidden = true;
  refresh();
}

async function renderApp() {
  const slug = state.app;
  const app = state.apps.find((a) => a.app_slug === slug);
  if (!app) { state.app = null; return; }
  const [endpoints, deliveries, catalog] = await Promise.all([
    api("GET", appPath(slug) + "/endpoints?include_inactive=true&limit=1000"),
    api("GET", appPath(slug) + "/deliveries?limit=50"),
    app.event_catalog_slug ? api("GET", appPath(slug) + "/catalog").catch(() => null) : null,
  ]);
  $("#app-name").textContent = app.name;
  $("#app-slug").textContent = app.app_slug;
  $("#app-catalog").textContent = app.event_catalog_slug || "none (no events can be subscribed)";
  $("#app-secret").textContent = app.signing_secret.slice(0, 12) + "…";
  $("#app-secret").title = "the signing secret; the full value is in the API's app response";
  const events = catalog ? catalog.events.filter((e) => !e.is_archived) : [];
  $("#catalog-events").replaceChildren(...events.map((e) => h("option", { value: e.name }, e.description)));
  if (!$("#trigger-event").value && events.length) $("#trigger-event").value = events[0].name;
  renderEndpoints(endpoints.data);
  renderDeliveries(deliveries.data, endpoints.data);
  if (state.delivery) await renderDelivery(state.delivery);
}

function renderEndpoints(endpoints) {
  const rows = endpoints.map((e) => h("tr", { "data-endpoint-id": e.id },
    h("td", { class: "mono" }, e.url, e.description ? h("div", { class: "muted" }, e.description) : null),
    h("td", {}, (e.subscriptions || []).map((s) => h("div", {},
      s.event_name, s.filter_rules && Object.keys(s.filter_rules).length ?
        h("span", { class: "muted mono", title: "filter rules" }, " " + JSON.stringify(s.filter_rules)) : null))),
    h("td", {}, e.is_active ? h("span", { class: "status success" }, "active") :
      h("span", { class: "status bad" }, e.auto_disabled ? "disabled (auto)" : "inactive")),
    h("td", {}, String(e.failure_count)),
    h("td", { class: "row" },
      h("button", { type: "button", class: "test-endpoint", onclick: () => testEndpoint(e) }, "Test"),
      e.is_active ? null : h("button", { type: "button", class: "reactivate", onclick: () => reactivate(e) }, "Reactivate")),
  ));
  $("#endpoints tbody").replaceChildren(...(rows.length ? rows :
    [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No endpoints. Tip: an inbox URL such as " +
      location.origin + "/_inbox/demo receives deliveries right here."))]));
}

function renderDeliveries(deliveries, endpoints) {
  const urls = Object.fromEntries(endpoints.map((e) => [e.id, e.url]));
  const sorted = [...deliveries].sort((a, b) => byIdDesc(a.delivery_id, b.delivery_id));
  const rows = sorted.map((d) => h("tr", {
    "data-delivery-id": d.delivery_id,
    class: d.delivery_id === state.delivery ? "selected" : "",
    title: "to " + (urls[d.endpoint_id] || "endpoint " + d.endpoint_id),
    onclick: () => { state.delivery = d.delivery_id; state.note = ""; renderDelivery(d.delivery_id); markSelected(); },
  },
  h("td", { class: "mono" }, d.delivery_id),
  h("td", {}, d.event_name),
  h("td", {}, h("span", { class: "status " + d.status }, d.status)),
  h("td", {}, d.attempt_number + " / " + d.max_attempts),
  h("td", {}, d.http_status_code == null ? "—" : String(d.http_status_code)),
  h("td", {}, time(d.timestamp))));
  $("#deliveries tbody").replaceChildren(...(rows.length ? rows :
    [h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No deliveries yet: trigger an event above."))]));
}

function markSelected() {
  for (const row of document.querySelectorAll("#deliveries tbody tr")) {
    row.classList.toggle("selected", row.dataset.deliveryId === state.delivery);
  }
}

/// The request an inbox received for this delivery, when the endpoint is an inbox.
function inboxCopy(deliveryId) {
  for (const inbox of (state.overview ? state.overview.inboxes : [])) {
    const found = inbox.received.find((r) => r.headers["webhook-id"] === "msg_" + deliveryId);
    if (found) return { inbox: inbox.name, request: found };
  }
  return null;
}

async function renderDelivery(id) {
  const slug = state.app;
  const [details, sent] = await Promise.all([
    api("GET", appPath(slug) + "/deliveries/" + enc(id)),
    api("GET", "/_inspector/api/apps/" + enc(slug) + "/deliveries/" + enc(id)).catch(() => null),
  ]);
  if (state.delivery !== id) return;
  const copy = inboxCopy(id);
  const attempts = sent ? sent.attempts : [];
  const filter = details.status === "filtered" ?
    "filtered out: the endpoint's filter rules no longer matched when it was sent" :
    "passed the endpoint's filter rules (events that fail them at trigger time are counted, not delivered)";
  const panel = $("#delivery-detail");
  panel.hidden = false;
  panel.replaceChildren(...[
    h("div", { class: "row" },
      h("strong", {}, "Delivery " + id), h("span", { class: "status " + details.status }, details.status),
      h("button", { type: "button", id: "replay-button", class: "primary", onclick: () => replay(id) }, "Replay")),
    h("div", { id: "replay-result", class: "muted" }, state.note),
    h("dl", { class: "kv" },
      h("dt", {}, "event"), h("dd", {}, details.event_name),
      h("dt", {}, "endpoint"), h("dd", {}, details.endpoint_id),
      h("dt", {}, "filter"), h("dd", {}, filter)),
    h("h4", {}, "Attempts (" + attempts.length + ")"),
    attempts.length ? attempts.map((a, i) => h("div", { class: "attempt " + (a.status_code >= 200 && a.status_code < 300 ? "ok" : "bad") },
      h("div", { class: "row" }, h("strong", {}, "#" + (i + 1)), time(a.at),
        h("span", { class: "status " + a.status }, a.status_code == null ? "no response" : "HTTP " + a.status_code),
        h("span", { class: "muted" }, a.response_time_ms + " ms")),
      a.error ? h("div", { class: "status bad" }, a.error) : null,
      a.response_body ? h("pre", {}, a.response_body) : null)) :
      h("div", { class: "muted" }, "none yet"),
    h("h4", {}, "Headers as sent"),
    copy ? h("pre", { class: "headers" }, Object.entries(copy.request.headers).map(([k, v]) => k + ": " + v).join("\n")) :
      h("div", { class: "muted" }, "known when the endpoint is an inbox of this emulator (webhook-id msg_" + id + ")"),
    h("h4", {}, "Payload as sent"),
    h("pre", { class: "payload" }, pretty(sent ? sent.body : details.payload)),
  ].flat());
}

function renderInbox() {
  const inbox = state.overview.inboxes.find((i) => i.name === state.inbox);
  const view = $("#inbox-view");
  if (!inbox) { view.replaceChildren(h("p", { class: "muted" }, "No such inbox.")); return; }
  view.replaceChildren(...[
    h("h2", {}, "Inbox " + inbox.name),
    h("div", { class: "muted" }, h("code", {}, inbox.url), " · next answer " + inbox.next_status +
      " · " + inbox.total_received + " received (the latest kept)"),
    inbox.received.map((r) => h("div", { class: "card" },
      h("div", { class: "row" }, h("strong", {}, r.method), time(r.received_at),
        h("span", { class: "muted" }, "answered " + r.status)),
      h("pre", {}, Object.entries(r.headers).map(([k, v]) => k + ": " + v).join("\n")),
      h("pre", {}, pretty(r.body)))),
  ].flat());
}

// ---- actions ----

async function act(what, action) {
  try {
    const result = await action();
    showError(null);
    await refresh();
    return result;
  } catch (error) {
    showError(new Error(what + " failed: " + error.message));
    return null;
  }
}

async function trigger(event) {
  event.preventDefault();
  const out = $("#trigger-result");
  let payload;
  try { payload = JSON.parse($("#trigger-payload").value); } catch (error) {
    out.textContent = "The payload is not valid JSON: " + error.message;
    return;
  }
  const eventName = $("#trigger-event").value.trim();
  const sent = await act("Trigger", () => api("POST", appPath(state.app) + "/trigger",
    { app_slug: state.app, event_name: eventName, payload }));
  if (sent) {
    out.textContent = sent.delivered_count + " deliveries queued, " + sent.filtered_count + " filtered out";
    if (sent.delivery_ids.length) { state.delivery = sent.delivery_ids[0]; await refresh(); }
  }
}

async function replay(id) {
  const queued = await act("Replay", () => api("POST", appPath(state.app) + "/deliveries/replay", { delivery_ids: [id] }));
  if (queued) {
    state.note = "replayed as task " + queued.task_id + ": the new delivery is at the top of the list";
    await refresh();
  }
}

function testEndpoint(endpoint) {
  act("Test", () => api("POST", appPath(state.app) + "/endpoints/" + enc(endpoint.id) + "/test",
    { event_name: "test.webhook" }));
}

function reactivate(endpoint) {
  act("Reactivate", () => api("POST", "/webhooks/endpoints/" + enc(endpoint.id) + "/reactivate"));
}

function rotateSecret() {
  if (!confirm("Rotate the signing secret of " + state.app + "? Receivers need the new one.")) return;
  act("Rotate", () => api("POST", appPath(state.app) + "/rotate-secret"));
}

document.addEventListener("DOMContentLoaded", () => {
  $("#trigger-form").addEventListener("submit", trigger);
  $("#rotate-secret").addEventListener("click", rotateSecret);
  $("#change-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    apiKey();
    refresh();
  });
  refresh();
  setInterval(refresh, POLL_MS);
});
