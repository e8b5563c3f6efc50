// vwh inspector page: live requests from /events (server-sent events), grouped by call, with detail,
// filters and Replay. Plain DOM; every value from the traffic goes in through textContent, never HTML.
// Bounded like the server: it keeps the same latest `keep` exchanges (500), and a new exchange adds
// one row (and drops the oldest) instead of drawing the whole list again.
"use strict";

const state = { exchanges: new Map(), selected: null, resign: { available: false, reason: "not connected" }, rawShown: new Set(), keep: 500 };
/** The rows on screen by exchange id, and the call groups they are in. */
const rows = new Map();
const groups = new Map();

const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

const verdictOf = (exchange) => (exchange.signature === null ? "unchecked" : exchange.signature.valid ? "valid" : "invalid");
const verdictText = (exchange) => (exchange.signature === null ? "–" : exchange.signature.valid ? "✓ valid" : `✗ ${exchange.signature.reason}`);
const callOf = (exchange) => exchange.call_id ?? "(no call id)";
const clock = (iso) => new Date(iso).toTimeString().slice(0, 8);

function bytesOf(body) {
  if (body.encoding === "base64") return Uint8Array.from(atob(body.data), (c) => c.charCodeAt(0));
  return new TextEncoder().encode(body.data);
}

function hexDump(bytes) {
  const lines = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join("\n") || "(empty)";
}

function pretty(body, contentType) {
  if (body.bytes === 0) return "(empty)";
  if (body.encoding === "base64") return `(${body.bytes} bytes, not UTF-8: show raw bytes)`;
  const text = body.data;
  if (/json/i.test(contentType ?? "") || /^\s*[{[]/.test(text)) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON after all
    }
  }
  if (/x-www-form-urlencoded/i.test(contentType ?? "")) {
    return Array.from(new URLSearchParams(text), ([key, value]) => `${key} = ${value}`).join("\n");
  }
  return text;
}

function bodyBlock(key, body, contentType) {
  const raw = state.rawShown.has(key);
  const toggle = el(
    "button",
    { type: "button", "data-testid": "raw-toggle", onclick: () => (raw ? state.rawShown.delete(key) : state.rawShown.add(key), renderDetail()) },
    raw ? "pretty" : "raw bytes",
  );
  const note = body.truncated
    ? el("span", { class: "note" }, ` (first ${body.data.length} of ${body.bytes} bytes)`)
    : el("span", { class: "note" }, ` ${body.bytes} bytes`);
  return [el("div", { class: "actions" }, toggle, note), el("pre", { "data-testid": "body" }, raw ? hexDump(bytesOf(body)) : pretty(body, contentType))];
}

function headersTable(headers) {
  return el(
    "table",
    { class: "headers" },
    Object.entries(headers).map(([name, value]) => el("tr", {}, el("td", {}, name), el("td", {}, value))),
  );
}

function replyColumn(title, exchange, testid) {
  const reply = exchange.reply;
  const column = el("div", { "data-testid": testid, "data-id": exchange.id }, el("h3", {}, title));
  if (!reply) {
    column.append(el("p", { class: "error" }, `${exchange.status}: ${exchange.proxy_error ?? "no reply"}`));
    return column;
  }
  column.append(
    el(
      "p",
      {},
      el("strong", { class: `status-${String(reply.status)[0]}`, "data-testid": "reply-status" }, String(reply.status)),
      ` · ${exchange.latency_ms} ms`,
      reply.actions ? ` · [${reply.actions.join(", ")}]` : "",
    ),
    headersTable(reply.headers),
    ...bodyBlock(`reply-${exchange.id}`, reply.body, reply.headers["content-type"]),
  );
  if (exchange.replay_of !== null) column.append(el("p", { class: "note" }, `signature: ${verdictText(exchange)}`));
  return column;
}

function setReplayStatus(text, isError = false) {
  state.replayStatus = { text, isError };
  const status = $("replay-status");
  if (status) {
    status.textContent = text;
    status.className = isError ? "error" : "note";
  }
}

async function replay(id, mode, button) {
  button.disabled = true;
  setReplayStatus("replaying…");
  try {
    const response = await fetch(`/api/exchanges/${id}/replay`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode }),
    });
    const result = await response.json();
    if (!response.ok) throw new Error(result.error ?? `HTTP ${response.status}`);
    add(result);
    setReplayStatus(`replayed as #${result.id}`);
    renderDetail();
  } catch (error) {
    setReplayStatus(`replay failed: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

function renderDetail() {
  const detail = $("detail");
  const exchange = state.exchanges.get(state.selected);
  if (!exchange) {
    detail.hidden = true;
    return;
  }
  detail.hidden = false;
  const replays = [...state.exchanges.values()].filter((other) => other.replay_of === exchange.id);
  const canReplay = exchange.path.startsWith("/");
  const resignTitle = state.resign.available ? "send again with a fresh signature and timestamp" : state.resign.reason;
  const status = el(
    "span",
    { id: "replay-status", class: state.replayStatus?.isError ? "error" : "note", "data-testid": "replay-status" },
    state.replayStatus?.text ?? "",
  );
  detail.replaceChildren(
    el("h2", {}, `#${exchange.id} ${exchange.method} ${exchange.path}`),
    el(
      "p",
      {},
      `${clock(exchange.time)} · ${exchange.event_type ?? "-"} · call ${callOf(exchange)} · `,
      el("span", { class: `verdict-${verdictOf(exchange)}`, "data-testid": "detail-verdict" }, `signature ${verdictText(exchange)}`),
      exchange.replay_of !== null
        ? el("span", { class: "replay-tag" }, ` · replay of #${exchange.replay_of} (${exchange.replay_mode === "resign" ? "re-signed" : "original headers"})`)
        : "",
    ),
    el(
      "div",
      { class: "actions" },
      el(
        "button",
        {
          type: "button",
          "data-testid": "replay-resign",
          disabled: !canReplay || !state.resign.available,
          title: resignTitle,
          onclick: (event) => replay(exchange.id, "resign", event.currentTarget),
        },
        "Replay (re-signed)",
      ),
      el(
        "button",
        {
          type: "button",
          "data-testid": "replay-original",
          disabled: !canReplay,
          title: "send again with the headers it came with",
          onclick: (event) => replay(exchange.id, "original", event.currentTarget),
        },
        "Replay (original headers)",
      ),
      status,
    ),
    el("h3", {}, "Request headers"),
    headersTable(exchange.request.headers),
    el("h3", {}, "Request body"),
    ...bodyBlock(`request-${exchange.id}`, exchange.request.body, exchange.request.headers["content-type"]),
    el(
      "div",
      { class: "columns" },
      replyColumn("Reply", exchange, "reply-original"),
      replays.map((other) => replyColumn(`Replay #${other.id} (${other.replay_mode === "resign" ? "re-signed" : "original headers"})`, other, "reply-replay")),
    ),
  );
}

function fillSelect(select, values) {
  const current = select.value;
  const first = select.options[0];
  select.replaceChildren(first, ...[...values].sort().map((value) => el("option", { value }, value)));
  select.value = values.has(current) ? current : "";
}

function filters() {
  return { call: $("filter-call").value, eventType: $("filter-event").value, verdict: $("filter-verdict").value };
}

function passes(exchange, { call, eventType, verdict }) {
  return (!call || callOf(exchange) === call) && (!eventType || exchange.event_type === eventType) && (!verdict || verdictOf(exchange) === verdict);
}

function select(id) {
  rows.get(state.selected)?.setAttribute("aria-selected", "false");
  state.selected = id;
  state.replayStatus = undefined;
  rows.get(id)?.setAttribute("aria-selected", "true");
  renderDetail();
}

function rowOf(exchange) {
  return el(
    "tr",
    {
      class: "exchange",
      "data-testid": "exchange",
      "data-id": exchange.id,
      "data-verdict": verdictOf(exchange),
      "aria-selected": exchange.id === state.selected ? "true" : "false",
      onclick: () => select(exchange.id),
    },
    el("td", {}, `#${exchange.id}`),
    el("td", {}, clock(exchange.time)),
    el("td", {}, exchange.method),
    el("td", { class: "path", title: exchange.path }, exchange.path),
    el(
      "td",
      { "data-testid": "event-type" },
      exchange.event_type ?? "-",
      exchange.replay_of !== null ? el("span", { class: "replay-tag" }, ` ↻#${exchange.replay_of}`) : "",
    ),
    el("td", { class: `verdict-${verdictOf(exchange)}`, "data-testid": "verdict" }, verdictText(exchange)),
    el("td", { class: `status-${String(exchange.status)[0]}`, "data-testid": "status" }, String(exchange.status)),
    el("td", {}, `${Math.round(exchange.latency_ms)} ms`),
  );
}

function groupOf(callId) {
  let group = groups.get(callId);
  if (!group) {
    const count = el("span", { class: "count" });
    const table = el("table", {});
    const section = el("div", { class: "call", "data-testid": "call", "data-call": callId }, el("h2", {}, callId, count), table);
    group = { section, table, count, size: 0 };
    groups.set(callId, group);
    $("calls").append(section);
  }
  return group;
}

function countGroup(group, change) {
  group.size += change;
  group.count.textContent = ` · ${group.size} request${group.size === 1 ? "" : "s"}`;
}

/** Puts one exchange's row on screen (in its call's group), or replaces the row it had. */
function showRow(exchange) {
  const old = rows.get(exchange.id);
  if (old) {
    const row = rowOf(exchange);
    old.replaceWith(row);
    rows.set(exchange.id, row);
    return;
  }
  const group = groupOf(callOf(exchange));
  const row = rowOf(exchange);
  row.group = group;
  group.table.append(row);
  rows.set(exchange.id, row);
  countGroup(group, 1);
}

function hideRow(id) {
  const row = rows.get(id);
  if (!row) return;
  rows.delete(id);
  row.remove();
  countGroup(row.group, -1);
  if (row.group.size === 0) {
    row.group.section.remove();
    groups.delete(row.group.section.dataset.call);
  }
}

/** Adds a new option to a filter when a value is seen for the first time. */
function offerFilterValue(select, value) {
  if (!value || [...select.options].some((option) => option.value === value)) return;
  select.append(el("option", { value }, value));
}

/** One exchange arrived: one row added, the oldest beyond `keep` dropped. */
function add(exchange) {
  state.exchanges.set(exchange.id, exchange);
  for (const id of state.exchanges.keys()) {
    if (state.exchanges.size <= state.keep) break;
    state.exchanges.delete(id);
    hideRow(id);
  }
  offerFilterValue($("filter-call"), callOf(exchange));
  offerFilterValue($("filter-event"), exchange.event_type);
  $("empty").hidden = state.exchanges.size > 0;
  if (state.exchanges.has(exchange.id) && passes(exchange, filters())) showRow(exchange);
  if (state.selected !== null && (exchange.id === state.selected || exchange.replay_of === state.selected || !state.exchanges.has(state.selected)))
    renderDetail();
}

/** The whole list drawn again: on connecting and when a filter changes. */
function render() {
  const all = [...state.exchanges.values()].sort((a, b) => a.id - b.id);
  fillSelect($("filter-call"), new Set(all.map(callOf)));
  fillSelect($("filter-event"), new Set(all.map((exchange) => exchange.event_type).filter(Boolean)));
  const chosen = filters();
  rows.clear();
  groups.clear();
  $("empty").hidden = all.length > 0;
  $("calls").replaceChildren($("empty"));
  for (const exchange of all) if (passes(exchange, chosen)) showRow(exchange);
  renderDetail();
}

function connect() {
  const source = new EventSource("/events");
  const indicator = $("connection");
  source.addEventListener("open", () => {
    indicator.dataset.state = "open";
    indicator.textContent = "live";
  });
  source.addEventListener("error", () => {
    indicator.dataset.state = "closed";
    indicator.textContent = "disconnected (retrying)";
  });
  source.addEventListener("hello", (event) => {
    const hello = JSON.parse(event.data);
    state.resign = hello.resign;
    if (Number.isInteger(hello.keep) && hello.keep > 0) state.keep = hello.keep;
    // The server sends everything it holds after hello: start again from that.
    state.exchanges.clear();
    render();
  });
  source.addEventListener("exchange", (event) => add(JSON.parse(event.data)));
  source.addEventListener("dropped", () => {
    indicator.dataset.state = "closed";
    indicator.textContent = "fell behind: reconnecting";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["filter-call", "filter-event", "filter-verdict"]) $(id).addEventListener("change", render);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  connect();
});
