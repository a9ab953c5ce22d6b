// The warmhandoff desk page: a live view over server-sent events, one handoff open at a time,
// every action a labelled control. Data is only ever written with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
let view = null;
let selected = null; // handoff id
let current = null; // its detail
let detailStatus = null;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function notice(text, error) {
  const n = $("notice");
  n.textContent = text;
  n.classList.toggle("error", Boolean(error));
}

function clock(since) {
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return { seconds, text: `${m}:${s}` };
}

async function call(method, path, body) {
  const init = { method, headers: { "X-Warmhandoff-Desk": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

// --- lists -----------------------------------------------------------------------------

function handoffLabel(h) {
  const c = clock(h.waiting_since);
  const parts = [`P${h.priority}`, h.queue, h.triggers.join(", ") || "no trigger",
    h.language || "und", h.channel || ""];
  return { text: parts.filter(Boolean).join(" · "), clock: c, late: c.seconds > h.sla_seconds };
}

function renderList(id, rows, emptyText) {
  const list = $(id);
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.hid : null;
  const hadFocus = list.contains(document.activeElement);
  list.replaceChildren();
  if (!rows.length) { list.append(el("li", emptyText)); return; }
  for (const h of rows) {
    const li = el("li");
    const button = el("button");
    button.type = "button";
    button.dataset.hid = h.handoff_id;
    button.dataset.since = h.waiting_since;
    button.dataset.sla = h.sla_seconds;
    const label = handoffLabel(h);
    button.append(el("span", label.text));
    button.append(el("br"));
    const status = h.status === "offered" && h.agent_id === (view.me || {}).id
      ? "offered to you" : h.status;
    if (h.answered_at) {
      // Answered: the SLA clock stopped when a human accepted.
      const waited = Math.max(0, Math.round((Date.parse(h.answered_at) - Date.parse(h.waiting_since)) / 1000));
      button.append(el("span", `${status} · answered after ${Math.floor(waited / 60)}:${String(waited % 60).padStart(2, "0")} (SLA ${h.sla_seconds}s)`,
        waited > h.sla_seconds ? "late" : ""));
      delete button.dataset.since;
    } else {
      button.append(el("span", `${status} · waiting ${label.clock.text} (SLA ${h.sla_seconds}s)`,
        label.late ? "late clock" : "clock"));
    }
    if (h.summary) { button.append(el("br")); button.append(el("span", h.summary)); }
    button.setAttribute("aria-current", String(h.handoff_id === selected));
    button.addEventListener("click", () => open(h.handoff_id));
    li.append(button);
    list.append(li);
    if (hadFocus && focused === h.handoff_id) button.focus();
  }
}

function renderSupervisor() {
  const body = $("queues").querySelector("tbody");
  body.replaceChildren();
  for (const q of view.queues) {
    const tr = el("tr");
    tr.dataset.queue = q.queue;
    tr.append(el("th", q.queue));
    tr.firstChild.scope = "row";
    tr.append(el("td", q.waiting, "waiting"));
    tr.append(el("td", q.in_progress, "in-progress"));
    const oldest = q.oldest_since ? clock(q.oldest_since) : null;
    const cell = el("td", oldest ? `${oldest.text} / ${q.sla_seconds}s` : "—",
      oldest && oldest.seconds > q.sla_seconds ? "breach clock" : "clock");
    if (oldest) { cell.dataset.since = q.oldest_since; cell.dataset.sla = q.sla_seconds; }
    tr.append(cell);
    const sl = q.service_level === null ? "—" : `${Math.round(q.service_level * 100)}%`;
    tr.append(el("td", `${sl} (${Math.round(q.sla_target * 100)}%)`,
      q.service_level !== null && q.service_level < q.sla_target ? "breach" : ""));
    tr.append(el("td", q.abandon_rate === null ? "—" : `${Math.round(q.abandon_rate * 100)}%`));
    const a = q.agents;
    tr.append(el("td", `${a.available} / ${a.busy} / ${a.away} / ${a.offline}`, "agents"));
    body.append(tr);
  }
  const agents = $("agents").querySelector("tbody");
  agents.replaceChildren();
  for (const a of view.agents) {
    const tr = el("tr");
    tr.append(el("th", a.agent_id));
    tr.firstChild.scope = "row";
    tr.append(el("td", a.state), el("td", `${a.active} / ${a.capacity}`), el("td", a.queues.join(", ")));
    agents.append(tr);
  }
  const alerts = $("alerts");
  alerts.replaceChildren();
  if (!view.alerts.length) alerts.append(el("li", "No alerts."));
  for (const a of view.alerts) {
    alerts.append(el("li", `${a.ts.slice(11, 19)} ${a.severity} ${a.queue || ""}: ${a.message}`));
  }
}

function render() {
  if (!view) return;
  const me = view.me;
  $("me").textContent = `${me.id} (${me.role})`;
  const supervisor = me.role === "supervisor";
  $("supervisor").hidden = !supervisor;
  $("mine-block").hidden = supervisor;
  $("presence-label").hidden = supervisor;
  if (supervisor) {
    renderSupervisor();
    $("my-queues").textContent = "Every waiting handoff, highest priority first.";
  } else {
    $("my-queues").textContent = view.presence === null
      ? "No presence published for you yet: your queues appear once it is."
      : `Your queues: ${view.queues.join(", ") || "none"}.`;
    if (view.presence) $("presence").value = view.presence;
    renderList("mine", view.mine, "Nothing with you.");
    renderList("recent", view.recent, "Nothing closed yet.");
  }
  renderList("waiting", view.waiting, view.ready ? "Nobody is waiting." : "Catching up…");
  const transfer = $("transfer-queue");
  if (transfer.options.length !== view.all_queues.length) {
    transfer.replaceChildren(...view.all_queues.map((q) => new Option(q, q)));
  }
  const outcome = $("outcome");
  if (!outcome.options.length) {
    outcome.replaceChildren(...view.outcomes.map((o) => new Option(o.replaceAll("_", " "), o)));
  }
  if (selected) refreshDetail();
}

// --- one handoff -------------------------------------------------------------------------

async function open(hid) {
  selected = hid;
  detailStatus = null;
  $("reply").value = "";
  await refreshDetail(true);
  render();
}

function statusOf(hid) {
  for (const key of ["waiting", "mine", "recent"]) {
    const row = (view[key] || []).find((h) => h.handoff_id === hid);
    if (row) return row.status;
  }
  return null;
}

async function refreshDetail(focus) {
  const status = statusOf(selected);
  if (!focus && status === detailStatus && current) return;
  try {
    current = await call("GET", `/api/handoffs/${encodeURIComponent(selected)}`);
  } catch (error) {
    $("detail").hidden = true;
    notice(error.message, true);
    selected = null;
    return;
  }
  detailStatus = current.status;
  renderDetail();
  if (focus) $("detail-title").focus();
}

function fill(id, items, make) {
  const node = $(id);
  node.replaceChildren();
  for (const item of items) node.append(make(item));
}

function pairs(id, entries) {
  const dl = $(id);
  dl.replaceChildren();
  for (const [k, v] of entries) {
    if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) continue;
    dl.append(el("dt", k));
    dl.append(el("dd", Array.isArray(v) ? v.join(", ") : v));
  }
}

function renderDetail() {
  const d = current;
  const me = view.me;
  $("detail").hidden = false;
  $("detail-title").textContent = `${d.queue}: ${d.summary.wants || d.conversation_id}`;
  $("detail-meta").textContent =
    `${d.status}${d.agent_id ? ` (${d.agent_id})` : ""} · priority ${d.priority} · ` +
    `triggers ${d.triggers.map((t) => t.code).join(", ")} · language ${d.language || "und"}` +
    ` · handoff ${d.handoff_id}`;
  const waiting = ["requested", "delivered", "queued", "offered"].includes(d.status);
  const holds = d.status === "accepted" && (d.agent_id === me.id || me.role === "supervisor");
  $("accept").disabled = !waiting;
  $("hand-back").disabled = !holds;
  $("transfer").disabled = !holds;
  $("resolve").disabled = !holds;
  const replied = d.reply !== null || d.macro_id !== null;
  $("send-reply").disabled = !holds || replied;
  $("reply").disabled = !holds || replied;
  $("sent-reply").textContent = replied ? `First reply sent: ${d.reply || d.macro_id}` : "";
  pairs("summary", [["Wants", d.summary.wants], ["Tried", d.summary.tried],
    ["Why a human", d.summary.why], ["Summary", d.summary.text]]);
  const list = $("suggestion-list");
  list.replaceChildren();
  d.suggested_replies.forEach((s, i) => {
    const id = `suggestion-${i}`;
    const input = el("input");
    input.type = "radio";
    input.name = "suggestion";
    input.id = id;
    input.value = String(i);
    input.disabled = !holds || replied;
    input.addEventListener("change", () => { $("reply").value = s.text; });
    const label = el("label", s.text);
    label.htmlFor = id;
    const row = el("div");
    row.append(input, label);
    list.append(row);
  });
  if (!d.suggested_replies.length) list.append(el("p", "No suggestions for this topic yet."));
  const promised = d.promised_wait;
  $("promised").textContent = promised
    ? `Promised wait: ${Math.round(promised.wait.low_seconds / 60)}–` +
      `${Math.round(promised.wait.high_seconds / 60)} min` +
      (promised.position ? `, place ${promised.position} in line` : "")
    : "No wait promised yet.";
  fill("told", d.told, (t) => el("li", `${t.ts.slice(11, 19)} ${t.message}`));
  fill("disclosures", d.disclosures, (t) => el("li", `Disclosure shown: ${t}`));
  fill("transcript", d.transcript, (line) => {
    const li = el("li");
    li.append(el("span", line.role, "role"), el("span", line.text));
    return li;
  });
  const entities = Object.entries(d.entities).map(([k, v]) => [k, v]);
  pairs("context", [["Customer", d.identity.customer_id],
    ["Verified", d.identity.verified ? "yes" : "no"], ["Tier", d.identity.tier],
    ["Fields", Object.entries(d.fields).map(([k, v]) => `${k}: ${v}`)],
    ["Still missing", d.missing_fields], ["Accessibility", d.accessibility],
    ["Case topic", d.case_topic], ...entities]);
  fill("tried", d.steps_tried, (s) => el("li", `${s.action}: ${s.status}${s.detail ? ` (${s.detail})` : ""}`));
  fill("next-steps", d.next_steps, (s) => el("li", s));
  fill("case-history", d.case_history.length ? d.case_history : [null], (h) => h === null
    ? el("li", "No earlier handoff on this case.")
    : el("li", `${h.waiting_since.slice(0, 16).replace("T", " ")} ${h.queue}: ${h.summary} (${h.outcome || h.status})`));
  fill("history", d.history, (h) => el("li",
    `${h.ts.slice(11, 19)} ${h.type}${h.agent_id ? ` by ${h.agent_id}` : ""}` +
    `${h.queue ? ` in ${h.queue}` : ""}${h.reason ? ` (${h.reason})` : ""} · ${h.source}`));
}

async function act(action, body) {
  if (!selected) return;
  try {
    await call("POST", `/api/handoffs/${encodeURIComponent(selected)}/${action}`, body || {});
    notice(`${action.replace("_", " ")}: done.`);
    detailStatus = null;
    await refreshDetail(false);
  } catch (error) {
    notice(error.message, true);
  }
}

function sendReply() {
  const checked = document.querySelector("input[name=suggestion]:checked");
  const text = $("reply").value.trim();
  const suggestion = checked ? current.suggested_replies[Number(checked.value)] : null;
  const body = { reply: text };
  if (suggestion && suggestion.text === text && suggestion.macro_id) body.macro_id = suggestion.macro_id;
  act("reply", body);
}

// --- start -------------------------------------------------------------------------------

function tick() {
  for (const node of document.querySelectorAll("[data-since]")) {
    const c = clock(node.dataset.since);
    const target = node.classList.contains("clock") ? node
      : node.querySelector(".clock");
    if (!target) continue;
    const late = c.seconds > Number(node.dataset.sla);
    target.classList.toggle("late", late);
    target.textContent = target.textContent.replace(/\d+:\d\d/, c.text);
  }
}

async function start() {
  const params = new URLSearchParams(location.search);
  if (params.get("login") === "refused") {
    $("login-error").textContent = "That token is not valid here (wrong, expired or for another desk).";
  }
  let me;
  try {
    me = await call("GET", "/api/me");
  } catch (error) {
    $("login").hidden = false;
    $("token").focus();
    return;
  }
  $("who").hidden = false;
  $("desk").hidden = false;
  $("me").textContent = `${me.id} (${me.role})`;
  $("accept").addEventListener("click", () => act("accept"));
  $("hand-back").addEventListener("click", () => act("hand_back"));
  $("transfer").addEventListener("click", () => act("transfer", { queue: $("transfer-queue").value }));
  $("resolve").addEventListener("click", () => act("resolve", { outcome: $("outcome").value }));
  $("send-reply").addEventListener("click", sendReply);
  $("presence").addEventListener("change", async () => {
    try {
      await call("POST", "/api/presence", { state: $("presence").value });
      notice(`You are ${$("presence").value}.`);
    } catch (error) { notice(error.message, true); }
  });
  $("logout").addEventListener("click", async () => {
    await call("POST", "/logout");
    location.replace("/");
  });
  const stream = new EventSource("/api/stream");
  stream.addEventListener("view", (event) => { view = JSON.parse(event.data); render(); });
  stream.addEventListener("expired", () => { stream.close(); location.replace("/"); });
  stream.onerror = () => notice("Connection lost: reconnecting…", true);
  stream.onopen = () => { if ($("notice").classList.contains("error")) notice(""); };
  setInterval(tick, 1000);
}

document.addEventListener("DOMContentLoaded", start);
