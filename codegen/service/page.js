"use strict";
// The codegen page: follow a job live, read its report (the form is page-form.js, the event
// parser page-sse.js).
//
// Everything shown that came from a user or a model (code, names, messages, model output) goes
// in as text nodes: it is shown, never interpreted as HTML. Nothing here sets innerHTML, and
// the page's Content-Security-Policy forbids inline script besides.

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 12;
const POLL_MS = 3000;
const FINAL = new Set(["done", "failed", "cancelled", "interrupted"]);
const STEPS = ["queued", "generate", "test", "rank", "done"];
const STEP_OF = {
  generate: "generate", repair: "generate", tester: "generate", sandbox: "test",
  verify: "test", behaviour: "rank", timing: "rank", growth: "rank", jury: "rank",
  rank: "rank", done: "done",
};

const state = {
  token: sessionStorage.getItem("codegen-token") || "",
  selected: null,     // the job shown on the right
  job: null,          // its last view
  offset: 0,          // the list's page
  total: 0,
  stream: null,       // AbortController of the event stream followed
  live: null,         // what the stream told so far
  roster: [],         // the service's default models
  planTimer: null,
};

// -- building the DOM from text ---------------------------------------------------------------
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function setText(id, text) { $(id).textContent = text === null || text === undefined ? "" : String(text); }

function pill(text) { return el("span", { class: "pill " + String(text) }, text); }

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "";
  const s = Math.max(0, seconds);
  if (s < 10) return s.toFixed(1) + " s";
  if (s < 90) return Math.round(s) + " s";
  const m = Math.floor(s / 60);
  if (m < 90) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function jobSeconds(job) {
  if (job.started === null || job.started === undefined) {
    return FINAL.has(job.state) ? null : Date.now() / 1000 - job.created;
  }
  return (job.finished || Date.now() / 1000) - job.started;
}

function clock(epoch, short) {
  const d = new Date(epoch * 1000);
  const today = new Date().toDateString() === d.toDateString();
  if (short) {
    const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return today ? time : d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
  }
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

function winnerText(job) {
  if (job.winner) return ` → ${job.winner}` + (job.winner_model ? ` by ${job.winner_model}` : "");
  return job.state === "done" && job.kind !== "run" ? " → no winner" : "";
}

// -- the API ------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    $("token").hidden = false;
    throw new ApiError(401, "this service needs an API token");
  }
  return response;
}

async function apiJson(path, options = {}) {
  const response = await api(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
    throw new ApiError(response.status, detail);
  }
  return { body, response };
}

// -- the job list -------------------------------------------------------------------------------
async function loadJobs(options = {}) {
  let path = `/v1/jobs?limit=${PAGE_SIZE}&offset=${state.offset}`;
  if (options.around) path = `/v1/jobs?limit=${PAGE_SIZE}&job=${encodeURIComponent(options.around)}`;
  const { body, response } = await apiJson(path);
  state.total = Number(response.headers.get("X-Total-Count") || body.length);
  state.offset = Number(response.headers.get("X-Offset") || state.offset);
  renderJobs(body, Boolean(options.around));
}

function renderJobs(jobs, reveal) {
  const rows = $("jobs").tBodies[0];
  rows.replaceChildren();
  for (const job of jobs) {
    const row = rows.insertRow();
    row.className = "job" + (job.id === state.selected ? " selected" : "");
    row.dataset.id = job.id;
    row.tabIndex = 0;
    row.append(
      el("td", {}, el("span", { class: "fn" }, job.problem || "(unnamed)"),
        el("span", { class: "sub" }, ` ${job.kind} · ${job.id.slice(0, 8)}`)),
      el("td", {}, pill(job.state)),
      el("td", { class: "when" }, duration(jobSeconds(job)), el("span", { class: "sub" }, clock(job.created, true))),
      el("td", {}, (job.models || []).join(", "), el("span", { class: "sub" }, winnerText(job))),
    );
    if (job.error) {  // the error under its job, across the row
      row.classList.add("has-error");
      const line = rows.insertRow();
      line.className = "err-row job";
      line.dataset.of = job.id;
      const cell = el("td", { colSpan: 4 }, el("span", { class: "err", title: job.error.message },
        shorten(job.error.message, 140)));
      line.append(cell);
      line.onclick = () => select(job.id);
    }
    row.onclick = () => select(job.id);
    row.onkeydown = (e) => { if (e.key === "Enter") select(job.id); };
  }
  const first = state.total ? state.offset + 1 : 0;
  const last = state.offset + jobs.length;
  setText("jobs-count", state.total ? `(${state.total})` : "");
  setText("page-label", state.total ? `${first}–${last} of ${state.total}` : "");
  $("newer").disabled = state.offset === 0;
  $("older").disabled = last >= state.total;
  $("jobs-empty").hidden = state.total > 0;
  $("empty").hidden = !(state.total === 0 && !state.selected);
  if (!state.selected) showPick(state.total > 0);
  const chosen = rows.querySelector("tr.selected");
  if (chosen && reveal) chosen.scrollIntoView({ block: "nearest" });
}

function showPick(visible, title = "Select a job",
  text = "Pick a job in the list to see its progress and report, or submit a new one.") {
  const box = $("pick");
  box.hidden = !visible;
  box.replaceChildren(el("h2", {}, title), el("p", {}, text));
}

function shorten(text, limit) {
  const s = String(text || "");
  return s.length > limit ? s.slice(0, limit - 1) + "…" : s;
}

// -- one job ------------------------------------------------------------------------------------
async function select(id) {
  state.selected = id;
  const url = new URL(location.href);
  url.searchParams.set("job", id);
  history.replaceState(null, "", url);
  for (const row of $("jobs").tBodies[0].rows) {
    if (row.dataset.id) row.classList.toggle("selected", row.dataset.id === id);
  }
  resetLive();
  $("log").replaceChildren();
  $("empty").hidden = true;
  showPick(false);
  let job;
  try {
    job = (await apiJson(`/v1/jobs/${encodeURIComponent(id)}`)).body;
  } catch (error) {
    $("job").hidden = true;
    showPick(true, "No such job", `There is no job ${id} for you: pick one in the list.`);
    return;
  }
  showJob(job);
  if (!FINAL.has(job.state)) follow(id);
}

function resetLive() {
  if (state.stream) state.stream.abort();
  state.stream = null;
  state.live = { total: 0, answered: 0, failed: 0, candidates: new Map(), step: null, seen: new Set() };
}

function showJob(job) {
  state.job = job;
  $("job").hidden = false;
  setText("job-title", job.problem || "(unnamed)");
  const badge = $("job-state");
  badge.textContent = job.state;
  badge.className = "pill " + job.state;
  $("cancel").hidden = FINAL.has(job.state);
  $("cancel").disabled = false;
  renderMeta();
  renderError(job);
  renderStages(job);
  if (job.report) renderReport(job);
  else renderLiveCandidates();
  renderCounters();
  $("log-box").hidden = FINAL.has(job.state) && $("log").children.length === 0;
  const none = $("candidates").tBodies[0].rows.length === 0;
  $("candidates-box").hidden = FINAL.has(job.state) && none;
}

function renderMeta() {
  const job = state.job;
  if (!job) return;
  const parts = [`${job.kind} job ${job.id}`, `submitted ${clock(job.created)}`];
  const seconds = jobSeconds(job);
  if (seconds !== null) parts.push((FINAL.has(job.state) ? "took " : "running for ") + duration(seconds));
  if (job.models && job.models.length) parts.push("models: " + job.models.join(", "));
  if (job.retry_of) parts.push(`re-runs ${job.retry_of.slice(0, 8)}`);
  setText("job-meta", parts.join(" · "));
}

function renderError(job) {
  const box = $("job-error");
  box.replaceChildren();
  const report = job.report || {};
  const unsolved = job.state === "done" && report.solved === false;
  box.hidden = !job.error && !unsolved;
  if (job.error) {
    const title = { bad_input: "The problem was refused", environment: "The service could not run it",
      internal: "The job failed" }[job.error.kind] || "The job failed";
    box.append(el("b", {}, title), job.error.message);
  } else if (unsolved) {
    const closest = (report.closest || []).join(", ");
    box.append(el("b", {}, "No passing candidate"),
      closest ? `Closest: ${closest}. ` : "", report.candidates && report.candidates.length
        ? "Every candidate failed the tests; see why below." : "No model wrote a usable candidate.");
    for (const f of (report.generation_failures || []).slice(0, 4)) {
      box.append(el("div", { class: "sub" }, `${f.model} [${f.persona}] #${f.sample}: ${f.error_class} — ${shorten(f.message, 160)}`));
    }
  }
  const notice = $("job-notice");
  notice.replaceChildren();
  notice.hidden = !(job.state === "interrupted" || job.state === "cancelled");
  if (job.state === "interrupted") {
    notice.append(el("b", {}, "Interrupted"), job.reason === "shutdown"
      ? "The service was stopped before this job could finish."
      : "The service stopped unexpectedly while this job ran.",
      " Submitting it again (with the same Idempotency-Key, if it had one) runs it again.");
  } else if (job.state === "cancelled") {
    notice.append(el("b", {}, "Cancelled"), "The job was cancelled before it finished.");
  }
}

function renderStages(job) {
  const live = state.live;
  const list = $("stages");
  list.replaceChildren();
  const over = FINAL.has(job.state);
  let now = live.step || (job.state === "queued" ? "queued" : job.state === "running" ? "generate" : null);
  if (job.state === "done") now = "done";
  list.hidden = over && job.state !== "done" && !live.step;  // where it stopped is unknown
  const at = STEPS.indexOf(now);
  STEPS.forEach((step, i) => {
    let cls = "";
    if (job.state === "done" || (at >= 0 && i < at)) cls = "past";
    if (step === now && job.state !== "done") cls = over ? "stopped" : "now";
    list.append(el("li", { class: cls }, step));
  });
}

function renderCounters() {
  const live = state.live;
  const box = $("counters");
  box.replaceChildren();
  const report = state.job && state.job.report;
  if (report && report.totals) {
    const t = report.totals;
    const phases = Object.entries(report.phases_s || {}).filter(([k]) => k !== "total_s")
      .map(([k, v]) => `${k.replace(/_s$/, "")} ${duration(v)}`).join(", ");
    box.append(el("b", {}, String(t.requests)), ` model request${t.requests === 1 ? "" : "s"} · `,
      el("b", {}, String(t.candidates)), ` candidate${t.candidates === 1 ? "" : "s"} · `,
      el("b", {}, String(t.passing)), " passing", phases ? ` · ${phases}` : "",
      t.cost_usd ? ` · $${t.cost_usd.toFixed(4)}` : "");
    return;
  }
  if (!live.total && !live.candidates.size) return;
  const tested = [...live.candidates.values()].filter((c) => c.status !== "testing").length;
  const passing = [...live.candidates.values()].filter((c) => c.status === "passed").length;
  box.append("Requests ", el("b", {}, `${live.answered}/${live.total || "?"}`), " answered",
    live.failed ? ` · ${live.failed} failed` : "",
    " · candidates ", el("b", {}, String(live.candidates.size)),
    ` · ${tested} tested · ${passing} passing`);
}

function renderLiveCandidates() {
  const rows = $("candidates").tBodies[0];
  rows.replaceChildren();
  for (const c of state.live.candidates.values()) {
    const row = rows.insertRow();
    row.append(el("td", {}, "–"), el("td", {}, c.id), el("td", {}, c.author || ""),
      el("td", {}, pill(c.status)), el("td", {}, ""), el("td", {}, ""), el("td", {}, c.detail || ""));
  }
  $("candidates-empty").hidden = state.live.candidates.size > 0;
  $("winner-box").hidden = true;
  $("jury-box").hidden = true;
  $("notes-box").hidden = true;
}

function renderReport(job) {
  const report = job.report || {};
  const rows = $("candidates").tBodies[0];
  rows.replaceChildren();
  const list = candidatesOf(job.kind, report);
  for (const c of list) {
    const row = rows.insertRow();
    if (c.id === report.winner) row.className = "winner";
    row.append(
      el("td", {}, c.rank === null || c.rank === undefined ? "–" : c.rank + (c.tied ? "=" : "")),
      el("td", {}, c.id),
      el("td", {}, c.model ? `${c.model} [${c.persona}]` : ""),
      el("td", {}, pill(c.verdict)),
      el("td", {}, c.tests_total ? `${c.tests_passed}/${c.tests_total}` : ""),
      el("td", {}, c.timing ? (c.timing.median_s * 1000).toFixed(2) + " ms" : ""),
      el("td", {}, c.explanation || c.message || ""),
    );
  }
  $("candidates-empty").hidden = list.length > 0;
  $("candidates-empty").textContent = "No candidate.";
  const code = report.code;
  $("winner-box").hidden = !(report.winner || code);
  if (report.winner || code) {
    const by = list.find((c) => c.id === report.winner);
    setText("winner-title", `${report.winner || ""}` + (by && by.model ? ` by ${by.model}` : "")
      + (report.optimisation && report.optimisation.improved ? ` (optimised, ${report.optimisation.speedup.toFixed(2)}× faster)` : ""));
    setText("evidence", report.evidence || "");
    setText("winner", code || "(the winner is one of the candidates you sent)");
  }
  const ranked = report.ranking ? report.ranking.candidates : (job.kind === "rank" ? report.candidates : []);
  const jury = $("jury-notes");
  jury.replaceChildren();
  for (const c of ranked || []) {
    for (const note of (c.jury && c.jury.notes) || []) jury.append(el("li", {}, `${c.id}: ${note}`));
  }
  $("jury-box").hidden = jury.children.length === 0;
  const notes = $("notes");
  notes.replaceChildren();
  for (const note of [...(report.warnings || []), ...(report.notes || [])]) notes.append(el("li", {}, note));
  $("notes-box").hidden = notes.children.length === 0;
}

function candidatesOf(kind, report) {
  if (kind === "run") {
    return Object.entries(report).map(([id, run]) => ({
      id, verdict: run.verdict, message: run.message,
      tests_total: (run.tests || []).length,
      tests_passed: (run.tests || []).filter((t) => t.status === "passed").length,
    }));
  }
  return report.candidates || [];
}

// -- following a job live -----------------------------------------------------------------------
async function follow(id) {
  const controller = new AbortController();
  state.stream = controller;
  let ended = false;
  try {
    const response = await api(`/v1/jobs/${encodeURIComponent(id)}/events`,
      { signal: controller.signal, headers: { Accept: "text/event-stream" } });
    if (!response.ok) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = sseParser((type, data) => {
      let event;
      try { event = JSON.parse(data); } catch (e) { return; }
      if (state.stream !== controller) return;
      onEvent(event);
      if (event.type === "end") ended = true;
    });
    while (!ended) {
      const { value, done } = await reader.read();
      if (done) { parser.end(); break; }
      parser.push(decoder.decode(value, { stream: true }));
    }
    if (ended) controller.abort();
  } catch (error) {
    if (controller.signal.aborted && !ended) return;  // another job was selected
  }
  if (state.stream !== controller && !ended) return;
  if (ended) {
    const job = (await apiJson(`/v1/jobs/${encodeURIComponent(id)}`)).body;
    if (state.selected === id) showJob(job);
    loadJobs().catch(() => {});
  } else if (state.selected === id) {
    say("the event stream was cut; reconnecting…", "bad");
    setTimeout(() => { if (state.selected === id) select(id); }, 2000);
  }
}

function onEvent(event) {
  const live = state.live;
  const job = state.job;
  switch (event.type) {
    case "state":
      job.state = event.state;
      if (event.state === "running" && !job.started) job.started = Date.now() / 1000;
      if (event.state === "running" && !live.step) live.step = "generate";
      say(`job ${event.state}`, "stage");
      break;
    case "GenerationProgress": {
      const e = event.event;
      live.total = Math.max(live.total, e.total_requests || 0);
      if (e.kind === "finished") live.answered += 1;
      if (e.kind === "failed") live.failed += 1;
      const who = `${e.model} [${e.persona}] #${e.sample}`;
      const what = e.kind === "finished" ? `answered in ${e.latency_s.toFixed(1)} s` :
        e.kind === "failed" ? `failed: ${e.error_class || ""} ${e.message || ""}` : e.kind;
      say(`${event.round === "repair" ? "repair " : ""}request ${who}: ${what}`,
        e.kind === "failed" ? "bad" : e.kind === "finished" ? "good" : "");
      if (!live.step) live.step = "generate";
      break;
    }
    case "CandidateProgress":
      live.candidates.set(event.candidate, { id: event.candidate, author: event.author,
        status: event.status, detail: event.detail });
      say(`candidate ${event.candidate}` + (event.author ? ` by ${event.author}` : "") +
        `: ${event.status}` + (event.detail ? ` — ${event.detail}` : ""),
        event.status === "passed" ? "good" : event.status === "testing" ? "" : "bad");
      break;
    case "JudgeProgress":
      say(`judge ${event.judge}: ${event.status}` + (event.detail ? ` — ${event.detail}` : ""));
      break;
    case "StageProgress":
    case "Event":
      live.step = STEP_OF[event.stage] || live.step || "rank";
      say(`${event.stage}: ${event.message}`, "stage");
      break;
    case "end":
      job.state = event.state;
      job.finished = Date.now() / 1000;
      say(`job ${event.state}` + (event.reason ? ` (${event.reason})` : "") +
        (event.winner ? `: winner ${event.winner}` + (event.winner_model ? ` by ${event.winner_model}` : "") : "") +
        (event.error ? `: ${event.error.message}` : ""), event.state === "done" ? "good" : "bad");
      if (event.error) job.error = event.error;
      if (event.reason) job.reason = event.reason;
      break;
    default:
      return;
  }
  showJob(job);
}

function say(text, cls) {
  const log = $("log");
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  log.append(el("div", { class: cls || "" }, el("span", { class: "t" }, new Date().toLocaleTimeString()), text));
  if (stick) log.scrollTop = log.scrollHeight;
}

// -- cancelling ---------------------------------------------------------------------------------
async function cancel() {
  const id = state.selected;
  if (!id) return;
  $("cancel").disabled = true;
  try {
    await apiJson(`/v1/jobs/${encodeURIComponent(id)}`, { method: "DELETE" });
    say("cancelling…", "bad");
  } catch (error) {
    say(`cannot cancel: ${error.message}`, "bad");
  }
}

// -- start --------------------------------------------------------------------------------------
async function start() {
  setText("empty-command", `codegen solve problem.py --tests test_problem.py --server ${location.origin}`);
  const wanted = new URLSearchParams(location.search).get("job");
  await loadModels();
  if (wanted) {
    state.selected = wanted;
    await loadJobs({ around: wanted });
    await select(wanted);
  } else {
    await loadJobs();
  }
}

function tick() {
  if (document.hidden) return;
  loadJobs().catch(() => {});
}

document.addEventListener("DOMContentLoaded", () => {
  $("token").onsubmit = (e) => {
    e.preventDefault();
    state.token = $("token-value").value.trim();
    sessionStorage.setItem("codegen-token", state.token);
    $("token").hidden = true;
    start().catch(() => {});
  };
  $("submit").onsubmit = submit;
  $("add-test").onclick = () => addTestFile();
  $("cancel").onclick = cancel;
  $("newer").onclick = () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadJobs().catch(() => {}); };
  $("older").onclick = () => { state.offset += PAGE_SIZE; loadJobs().catch(() => {}); };
  for (const id of ["other-models", "samples"]) $(id).addEventListener("input", schedulePlan);
  for (const radio of document.querySelectorAll("input[name=jury]")) radio.addEventListener("change", schedulePlan);
  setInterval(tick, POLL_MS);
  setInterval(() => { if (state.job && !FINAL.has(state.job.state)) renderMeta(); }, 1000);
  resetLive();
  start().catch(() => {});
});
