// vwh inspector page: live requests from /events (server-sent events) in one table grouped by call, a
// detail pane with the request and its reply side by side, the reply pretty-printed with vwh's own
// findings, why a signature was refused, edit-and-replay, Copy as curl, Clear and Export.
// Plain DOM: every value from the traffic goes in through textContent, never HTML. Bounded like the
// server: it keeps the same latest `keep` exchanges (500), and a new exchange adds one row (and drops
// the oldest) instead of drawing the whole list again. Secrets never come here: the server re-signs.
"use strict";

const state = {
  exchanges: new Map(),
  selected: null,
  resign: { available: false, reason: "not connected" },
  rawShown: new Set(),
  keep: 500,
  checked: new Set(),
  editing: null,
  status: undefined,
  curl: undefined,
};
/** The rows on screen by exchange id, and the call groups (table bodies) they are in. */
const rows = new Map();
const groups = new Map();
const columns = 9;

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
const replayLabel = (exchange) => (exchange.replay_mode === "resign" ? "re-signed" : "original headers") + (exchange.replay_edited ? ", edited" : "");

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

/** The request body for people: JSON indented, form parameters one a line (the server pretty-prints replies). */
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

function bodyBlock(key, body, shown) {
  const raw = state.rawShown.has(key);
  const toggle = el(
    "button",
    { type: "button", "data-testid": "raw-toggle", onclick: () => (raw ? state.rawShown.delete(key) : state.rawShown.add(key), renderDetail()) },
    raw ? "pretty" : "raw bytes",
  );
  const note = body.truncated
    ? el("span", { class: "note" }, ` (first ${body.data.length} of ${body.bytes} bytes)`)
    : el("span", { class: "note" }, ` ${body.bytes} bytes`);
  return [el("div", { class: "actions" }, toggle, note), el("pre", { "data-testid": "body" }, raw ? hexDump(bytesOf(body)) : shown)];
}

function headersTable(headers) {
  return el(
    "table",
    { class: "headers" },
    Object.entries(headers).map(([name, value]) => el("tr", {}, el("td", {}, name), el("td", {}, value))),
  );
}

/** vwh's own findings on a reply, as `vwh simulate` would report them. */
function findingsBlock(reply) {
  const reading = reply.reading;
  if (!reading)
    return el("p", { class: "note", "data-testid": "reply-findings" }, "not checked: no platform recognised this request (start the tunnel with --platform)");
  const items = [
    ...reading.failures.map((finding) =>
      el("li", { class: "finding-failure" }, "✗ ", finding.path ? el("code", {}, finding.path) : "", finding.path ? " " : "", finding.message),
    ),
    ...reading.warnings.map((finding) =>
      el("li", { class: "finding-warning" }, "⚠ ", finding.path ? el("code", {}, finding.path) : "", finding.path ? " " : "", finding.message),
    ),
  ];
  return el(
    "div",
    { class: "findings", "data-testid": "reply-findings", "data-failures": reading.failures.length },
    el(
      "p",
      {},
      el("strong", {}, `vwh's check (${reading.platform}, ${reading.event_type}): `),
      reading.failures.length === 0
        ? el("span", { class: "verdict-valid" }, "✓ no failures")
        : el("span", { class: "verdict-invalid" }, `${reading.failures.length} failure${reading.failures.length === 1 ? "" : "s"}`),
      reading.note ? el("span", { class: "note" }, ` · ${reading.note}`) : "",
    ),
    items.length > 0 ? el("ul", {}, items) : "",
  );
}

function replyColumn(title, exchange, testid) {
  const reply = exchange.reply;
  const column = el("div", { class: "reply", "data-testid": testid, "data-id": exchange.id }, el("h3", {}, title));
  if (exchange.replay_forgery) column.append(forgeryWarning(exchange));
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
      reply.actions ? el("span", { "data-testid": "reply-actions" }, ` · ${reply.actions.join(", ")}`) : "",
    ),
    findingsBlock(reply),
    ...bodyBlock(`reply-${exchange.id}`, reply.body, reply.pretty ?? pretty(reply.body, reply.headers["content-type"])),
    el("details", {}, el("summary", {}, "reply headers"), headersTable(reply.headers)),
  );
  if (exchange.replay_of !== null) column.append(el("p", { class: "note" }, `signature: ${verdictText(exchange)}`));
  return column;
}

function forgeryWarning(exchange) {
  return el(
    "p",
    { class: "warning", role: "alert", "data-testid": "forgery-warning" },
    `⚠ #${exchange.replay_of}'s signature was refused, yet re-signed with your secret the handler accepted it (${exchange.status}). `,
    "vwh made this request valid: the original may be a forgery, and a handler must never be sent it signed.",
  );
}

/** Why a signature was refused: the URL vwh checked vs the ones the platform may have signed, and the signatures (masked). */
function explanationBlock(explanation) {
  const block = el(
    "div",
    { class: "explanation", "data-testid": "signature-explanation" },
    el("h3", {}, `Why the ${explanation.scheme} signature was refused`),
  );
  if (explanation.expectedUrl) {
    const matched = explanation.candidates.filter((candidate) => candidate.matches);
    block.append(
      el("p", {}, "URL vwh expected: ", el("code", { "data-testid": "expected-url" }, explanation.expectedUrl)),
      el(
        "p",
        {},
        "URL the signature was computed over: ",
        matched.length > 0
          ? matched.map((candidate) => el("code", { class: "verdict-valid", "data-testid": "signed-url" }, candidate.url))
          : el("span", { class: "verdict-invalid" }, `none of the ${explanation.candidates.length} URLs tried`),
      ),
      el(
        "details",
        {},
        el("summary", {}, `URLs tried (${explanation.candidates.length}: http and https, with and without the port)`),
        el(
          "table",
          { class: "candidates" },
          explanation.candidates.map((candidate) =>
            el(
              "tr",
              { "data-testid": "candidate", "data-matches": candidate.matches ? "true" : "false" },
              el("td", {}, el("code", {}, candidate.url)),
              el("td", { class: candidate.matches ? "verdict-valid" : "verdict-unchecked" }, candidate.matches ? "✓ matches" : "no match"),
            ),
          ),
        ),
      ),
    );
  }
  if (explanation.header) {
    block.append(
      el(
        "p",
        {},
        `${explanation.header}: expected `,
        el("code", { "data-testid": "expected-signature" }, explanation.expected ?? "(cannot be computed here)"),
        ", received ",
        el("code", { "data-testid": "received-signature" }, explanation.received ?? "(none)"),
      ),
    );
  }
  block.append(el("p", { class: "hint", "data-testid": "signature-hint" }, explanation.hint));
  return block;
}

function setStatus(text, isError = false) {
  state.status = { text, isError };
  const status = $("replay-status");
  if (status) {
    status.textContent = text;
    status.className = isError ? "error" : "note";
  }
}

async function post(path, payload) {
  const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
  const text = await response.text();
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    result = { error: `HTTP ${response.status}` };
  }
  if (!response.ok) throw new Error(result.error ?? `HTTP ${response.status}`);
  return { result, text };
}

/** The edit form's values, when it is open for this exchange. */
function editOf(exchange) {
  if (state.editing?.id !== exchange.id) return {};
  const payload = {};
  const body = $("edit-body");
  const path = $("edit-path");
  // A textarea turns CRLF into LF: an untouched body is sent as it came, byte for byte.
  if (body && !body.disabled && body.value !== exchange.request.body.data.replace(/\r\n?/g, "\n")) payload.body = body.value;
  if (path && path.value !== exchange.path) payload.path = path.value;
  return payload;
}

async function replay(exchange, mode, button, edited) {
  button.disabled = true;
  setStatus("replaying…");
  try {
    const { result } = await post(`/api/exchanges/${exchange.id}/replay`, { mode, ...(edited ? editOf(exchange) : {}) });
    add(result);
    setStatus(result.replay_forgery ? `replayed as #${result.id}: see the warning` : `replayed as #${result.id}`, result.replay_forgery);
    renderDetail();
  } catch (error) {
    setStatus(`replay failed: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

async function copyCurl(exchange, mode, edited) {
  try {
    const { result } = await post(`/api/exchanges/${exchange.id}/curl`, { mode, ...(edited ? editOf(exchange) : {}) });
    state.curl = { id: exchange.id, text: result.curl, note: result.note };
    state.status = { text: "curl command below", isError: false };
    renderDetail();
    if (navigator.clipboard)
      navigator.clipboard.writeText(result.curl).then(
        () => setStatus("curl command copied (and below)"),
        () => setStatus("curl command below (the clipboard was not available)"),
      );
  } catch (error) {
    setStatus(`copy as curl failed: ${error.message}`, true);
  }
}

function button(label, testid, onclick, options = {}) {
  return el("button", { type: "button", "data-testid": testid, onclick: (event) => onclick(event.currentTarget), ...options }, label);
}

function editPanel(exchange) {
  const binary = exchange.request.body.encoding === "base64" || exchange.request.body.truncated;
  return el(
    "div",
    { class: "edit", "data-testid": "edit-panel" },
    el("label", {}, "Path and query ", el("input", { id: "edit-path", "data-testid": "edit-path", value: exchange.path, spellcheck: "false" })),
    el(
      "label",
      {},
      "Body",
      binary ? el("span", { class: "note" }, " (binary or cut: cannot be edited here)") : "",
      el("textarea", { id: "edit-body", "data-testid": "edit-body", rows: 4, spellcheck: "false", disabled: binary }),
    ),
    el(
      "div",
      { class: "actions" },
      button("Send edited (re-signed)", "send-edited-resign", (b) => replay(exchange, "resign", b, true), {
        disabled: !state.resign.available,
        title: state.resign.available ? null : state.resign.reason,
      }),
      button("Send edited (original headers)", "send-edited-original", (b) => replay(exchange, "original", b, true)),
      button("Copy edited as curl (re-signed)", "curl-edited", () => copyCurl(exchange, "resign", true), { disabled: !state.resign.available }),
    ),
  );
}

function renderDetail() {
  const detail = $("detail");
  const exchange = state.exchanges.get(state.selected);
  if (!exchange) {
    detail.hidden = true;
    return;
  }
  detail.hidden = false;
  // The edit form keeps what was typed while new exchanges arrive.
  const typed = state.editing?.id === exchange.id ? { body: $("edit-body")?.value, path: $("edit-path")?.value } : undefined;
  const replays = [...state.exchanges.values()].filter((other) => other.replay_of === exchange.id);
  const canReplay = exchange.path.startsWith("/");
  const resignTitle = state.resign.available ? "send again with a fresh signature and timestamp" : state.resign.reason;
  const status = el("span", { id: "replay-status", class: state.status?.isError ? "error" : "note", "data-testid": "replay-status" }, state.status?.text ?? "");
  const curl =
    state.curl?.id === exchange.id
      ? [el("pre", { "data-testid": "curl" }, state.curl.text), state.curl.note ? el("p", { class: "note" }, state.curl.note) : ""]
      : [];
  detail.replaceChildren(
    el("h2", {}, `#${exchange.id} ${exchange.method} ${exchange.path}`),
    el(
      "p",
      {},
      `${clock(exchange.time)} · ${exchange.event_type ?? "-"} · call ${callOf(exchange)}${exchange.platform ? ` · ${exchange.platform}` : ""} · `,
      el("span", { class: `verdict-${verdictOf(exchange)}`, "data-testid": "detail-verdict" }, `signature ${verdictText(exchange)}`),
      exchange.replay_of !== null ? el("span", { class: "replay-tag" }, ` · replay of #${exchange.replay_of} (${replayLabel(exchange)})`) : "",
    ),
    exchange.signature_explanation ? explanationBlock(exchange.signature_explanation) : "",
    exchange.handler_refusal ? el("p", { class: "explanation", "data-testid": "handler-refusal" }, exchange.handler_refusal) : "",
    el(
      "div",
      { class: "actions" },
      button("Replay (re-signed)", "replay-resign", (b) => replay(exchange, "resign", b, false), {
        disabled: !canReplay || !state.resign.available,
        title: resignTitle,
      }),
      button("Replay (original headers)", "replay-original", (b) => replay(exchange, "original", b, false), {
        disabled: !canReplay,
        title: "send again with the headers it came with",
      }),
      button("Edit…", "edit", () => ((state.editing = state.editing?.id === exchange.id ? null : { id: exchange.id }), renderDetail()), {
        disabled: !canReplay,
      }),
      button("Copy as curl", "copy-curl", () => copyCurl(exchange, state.resign.available ? "resign" : "original", false), { disabled: !canReplay }),
      status,
    ),
    state.editing?.id === exchange.id ? editPanel(exchange) : "",
    ...curl,
    el(
      "div",
      { class: "split" },
      el(
        "div",
        { class: "request", "data-testid": "request" },
        el("h3", {}, "Request"),
        ...bodyBlock(`request-${exchange.id}`, exchange.request.body, pretty(exchange.request.body, exchange.request.headers["content-type"])),
        el("details", { open: true }, el("summary", {}, "request headers"), headersTable(exchange.request.headers)),
      ),
      el(
        "div",
        { class: "replies" },
        replyColumn("Reply", exchange, "reply-original"),
        replays.map((other) => replyColumn(`Replay #${other.id} (${replayLabel(other)})`, other, "reply-replay")),
      ),
    ),
  );
  if (state.editing?.id === exchange.id) {
    const body = $("edit-body");
    if (!body.disabled) body.value = typed?.body ?? exchange.request.body.data;
    if (typed?.path !== undefined) $("edit-path").value = typed.path;
  }
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
  state.status = undefined;
  state.editing = null;
  rows.get(id)?.setAttribute("aria-selected", "true");
  renderDetail();
}

function updateExportButton() {
  $("export").disabled = state.checked.size === 0;
  $("export").textContent = `Export selected (${state.checked.size})`;
}

function rowOf(exchange) {
  const box = el("input", {
    type: "checkbox",
    "data-testid": "pick",
    "aria-label": `select #${exchange.id} for export`,
    checked: state.checked.has(exchange.id),
    onclick: (event) => event.stopPropagation(),
    onchange: (event) => (event.currentTarget.checked ? state.checked.add(exchange.id) : state.checked.delete(exchange.id), updateExportButton()),
  });
  const actions = exchange.reply?.actions?.join(", ") ?? "";
  const failures = exchange.reply?.reading?.failures.length ?? 0;
  return el(
    "tr",
    {
      class: "exchange",
      "data-testid": "exchange",
      "data-id": exchange.id,
      "data-verdict": verdictOf(exchange),
      "aria-selected": exchange.id === state.selected ? "true" : "false",
      tabindex: 0,
      onclick: () => select(exchange.id),
      onkeydown: (event) => event.key === "Enter" && event.target === event.currentTarget && select(exchange.id),
    },
    el("td", {}, box),
    el("td", {}, `#${exchange.id}`),
    el("td", {}, clock(exchange.time)),
    el(
      "td",
      { class: "path", title: `${exchange.method} ${exchange.path}` },
      exchange.method === "POST" ? exchange.path : `${exchange.method} ${exchange.path}`,
    ),
    el(
      "td",
      { "data-testid": "event-type" },
      exchange.event_type ?? "-",
      exchange.replay_of !== null ? el("span", { class: "replay-tag" }, ` ↻#${exchange.replay_of}`) : "",
    ),
    el("td", { class: `verdict verdict-${verdictOf(exchange)}`, "data-testid": "verdict", title: verdictText(exchange) }, verdictText(exchange)),
    el("td", { class: `status-${String(exchange.status)[0]}`, "data-testid": "status" }, String(exchange.status)),
    el("td", { class: "number" }, `${Math.round(exchange.latency_ms)} ms`),
    el("td", { class: `reply-actions${failures > 0 ? " verdict-invalid" : ""}`, title: actions }, failures > 0 ? `✗ ${failures} · ${actions}` : actions),
  );
}

function groupOf(callId) {
  let group = groups.get(callId);
  if (!group) {
    const count = el("span", { class: "count" });
    const body = el(
      "tbody",
      { class: "call", "data-testid": "call", "data-call": callId },
      el("tr", { class: "group" }, el("th", { colspan: columns }, callId, count)),
    );
    group = { body, count, size: 0 };
    groups.set(callId, group);
    $("exchange-table").append(body);
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
    row.group = old.group;
    old.replaceWith(row);
    rows.set(exchange.id, row);
    return;
  }
  const group = groupOf(callOf(exchange));
  const row = rowOf(exchange);
  row.group = group;
  group.body.append(row);
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
    row.group.body.remove();
    groups.delete(row.group.body.dataset.call);
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
    state.checked.delete(id);
    hideRow(id);
  }
  offerFilterValue($("filter-call"), callOf(exchange));
  offerFilterValue($("filter-event"), exchange.event_type);
  $("empty").hidden = state.exchanges.size > 0;
  if (state.exchanges.has(exchange.id) && passes(exchange, filters())) showRow(exchange);
  if (state.selected !== null && (exchange.id === state.selected || exchange.replay_of === state.selected || !state.exchanges.has(state.selected)))
    renderDetail();
}

/** The whole list drawn again: on connecting, on Clear and when a filter changes. */
function render() {
  const all = [...state.exchanges.values()].sort((a, b) => a.id - b.id);
  fillSelect($("filter-call"), new Set(all.map(callOf)));
  fillSelect($("filter-event"), new Set(all.map((exchange) => exchange.event_type).filter(Boolean)));
  for (const id of state.checked) if (!state.exchanges.has(id)) state.checked.delete(id);
  updateExportButton();
  const chosen = filters();
  rows.clear();
  for (const group of groups.values()) group.body.remove();
  groups.clear();
  $("empty").hidden = all.length > 0;
  for (const exchange of all) if (passes(exchange, chosen)) showRow(exchange);
  renderDetail();
}

async function clearAll() {
  try {
    await post("/api/clear", {});
  } catch (error) {
    $("toolbar-status").textContent = `clear failed: ${error.message}`;
  }
}

async function exportChecked() {
  const ids = [...state.checked].sort((a, b) => a - b);
  try {
    const { result, text } = await post("/api/export", { ids });
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: `vwh-export-${Date.now()}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    $("toolbar-status").textContent = `exported ${result.events.length} request${result.events.length === 1 ? "" : "s"}: replay with vwh simulate <file>`;
  } catch (error) {
    $("toolbar-status").textContent = `export failed: ${error.message}`;
  }
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
  source.addEventListener("cleared", () => {
    state.exchanges.clear();
    state.selected = null;
    state.editing = null;
    render();
  });
  source.addEventListener("dropped", () => {
    indicator.dataset.state = "closed";
    indicator.textContent = "fell behind: reconnecting";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["filter-call", "filter-event", "filter-verdict"]) $(id).addEventListener("change", render);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("clear").addEventListener("click", clearAll);
  // Ticks (or unticks) every row shown, for Export.
  $("pick-all").addEventListener("change", (event) => {
    for (const [id, row] of rows) {
      if (event.currentTarget.checked) state.checked.add(id);
      else state.checked.delete(id);
      row.querySelector("[data-testid=pick]").checked = event.currentTarget.checked;
    }
    updateExportButton();
  });
  $("export").addEventListener("click", exportChecked);
  connect();
});
