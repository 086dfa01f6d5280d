// Sossut-studio: the page. Plain JavaScript, no build step, no external requests.
// Every text comes from messages.<lang>.json (t()); the server keeps all state in job folders.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

let MSG = {};
let INFO = { max_upload_bytes: 0, limits: { max_chars_per_line: 32, max_cps: 17, max_lines: 2 } };

function t(key, vars = {}) {
  let text = MSG[key] ?? key;
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

function applyTexts(root = document) {
  for (const el of $$("[data-t]", root)) el.textContent = t(el.dataset.t);
  for (const el of $$("[data-ph]", root)) el.placeholder = t(el.dataset.ph);
  for (const el of $$("[data-aria]", root)) el.setAttribute("aria-label", t(el.dataset.aria));
}

function formatBytes(n) {
  const gb = n / (1024 ** 3);
  return gb >= 1 ? `${gb.toLocaleString("fi-FI", { maximumFractionDigits: 1 })} Gt`
    : `${Math.round(n / (1024 ** 2)).toLocaleString("fi-FI")} Mt`;
}

function formatTime(s) {
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return `${m}:${rest.toFixed(1).padStart(4, "0").replace(".", ",")}`;
}

// --- server calls -------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, info) {
    super(info.key || "error");
    this.status = status;
    this.info = info;
  }
}

async function api(method, url, body, options = {}) {
  const init = { method, headers: {}, credentials: "same-origin", ...options };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, { key: "network" });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error || { key: "error" });
  return data;
}

function showError(box, err) {
  const info = err instanceof ApiError ? err.info : (err && err.key ? err : { key: "unexpected" });
  box.replaceChildren();
  const head = document.createElement("strong");
  let text = t(`error.${info.key}`, { size: formatBytes(INFO.max_upload_bytes) });
  if (text === `error.${info.key}`) text = t("error.error");
  head.textContent = text;
  box.append(head);
  if (info.message || info.hint) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = t("error.details");
    const p = document.createElement("p");
    p.textContent = [info.message, info.hint].filter(Boolean).join(" – ");
    details.append(summary, p);
    box.append(details);
  }
  box.hidden = false;
}

function hideError(box) { box.hidden = true; box.replaceChildren(); }

function setProgress(box, fraction, label) {
  box.hidden = false;
  $(".bar", box).style.width = `${Math.round(fraction * 100)}%`;
  $(".label", box).textContent = label;
}

// --- saving -------------------------------------------------------------------------------

const pending = new Map(); // key -> {timer, run, flush}
let saving = 0;

function saveState(kind) {
  const el = $("#save-state");
  el.textContent = kind ? t(`save.${kind}`) : "";
  el.dataset.state = kind || "";
}

// Debounce a save; `run` does it now, `flush` does it with keepalive when the page goes away.
function schedule(key, delay, run, flush) {
  const old = pending.get(key);
  if (old) clearTimeout(old.timer);
  saveState("saving");
  const timer = setTimeout(() => {
    pending.delete(key);
    saving += 1;
    run().then(() => { saving -= 1; if (!saving && !pending.size) saveState("saved"); })
      .catch(() => { saving -= 1; saveState("failed"); schedule(key, 3000, run, flush); });
  }, delay);
  pending.set(key, { timer, run, flush });
}

// Save what waits for its debounce now: in the page (before a render, when leaving a job) or,
// when the page goes away, with keepalive requests that outlive it.
function flushAll(unloading = false) {
  const runs = [];
  for (const [key, p] of pending) {
    clearTimeout(p.timer);
    pending.delete(key);
    if (unloading) p.flush(); else runs.push(p.run().catch(() => saveState("failed")));
  }
  return Promise.all(runs).then(() => { if (runs.length && !pending.size) saveState("saved"); });
}

window.addEventListener("pagehide", () => flushAll(true));
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flushAll(true); });

// --- views --------------------------------------------------------------------------------

const state = { job: null, cues: null, selected: -1, undo: [], redo: [], source: null };

function route() {
  const m = location.hash.match(/^#\/job\/([0-9a-f]{16})$/);
  if (m) openJob(m[1]);
  else if (location.hash === "#/kommentit") showComments(); // comments.js
  else showJobs();
}

// One view at a time; the nav button of the shown view is marked.
function showView(name) {
  for (const v of ["jobs", "job", "comments"]) $(`#view-${v}`).hidden = v !== name;
  for (const [v, id] of [["jobs", "#nav-jobs"], ["comments", "#nav-comments"]]) {
    if (v === name) $(id).setAttribute("aria-current", "page"); else $(id).removeAttribute("aria-current");
  }
}

window.addEventListener("hashchange", () => { flushAll().finally(route); });

async function showJobs() {
  closeEvents();
  state.job = null;
  showView("jobs");
  const { jobs } = await api("GET", "/api/jobs");
  const list = $("#job-list");
  list.replaceChildren();
  $("#jobs-empty").hidden = jobs.length > 0;
  for (const job of jobs) {
    const li = document.createElement("li");
    li.className = "job";
    li.dataset.id = job.id;
    const main = document.createElement("div");
    main.className = "job-main";
    const title = document.createElement("p");
    title.className = "job-comment";
    // Masked as on the card: a screen share of the list never shows a phone number.
    const shown = (job.comment_masked || "").trim();
    title.textContent = shown ? shown.slice(0, 140) : t("jobs.no_comment");
    const meta = document.createElement("p");
    meta.className = "muted small";
    const when = new Date(job.updated * 1000).toLocaleString("fi-FI", { dateStyle: "medium", timeStyle: "short" });
    const more = (job.clips || []).length - 1;
    const clips = job.clip_name ? job.clip_name + (more > 0 ? ` ${t("jobs.more_clips", { n: more })}` : "") : t("jobs.no_clip");
    meta.textContent = `${t("jobs.updated", { time: when })} · ${clips}`;
    main.append(title, meta);
    const badge = document.createElement("span");
    badge.className = `badge ${job.state}`;
    badge.textContent = t(`state.${job.state}`);
    const actions = document.createElement("div");
    actions.className = "job-actions";
    for (const [act, label] of [["open", "jobs.open"], ["duplicate", "jobs.duplicate"], ["delete", "jobs.delete"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.act = act;
      b.textContent = t(label);
      if (act === "open") b.className = "primary";
      if (act === "delete") b.className = "danger";
      actions.append(b);
    }
    li.append(badge, main, actions);
    list.append(li);
  }
}

$("#job-list").addEventListener("click", async (ev) => {
  const button = ev.target.closest("button");
  const li = ev.target.closest("li.job");
  if (!button || !li) return;
  const id = li.dataset.id;
  if (button.dataset.act === "open") location.hash = `#/job/${id}`;
  if (button.dataset.act === "duplicate") { await api("POST", `/api/jobs/${id}/duplicate`); showJobs(); }
  if (button.dataset.act === "delete" && confirm(t("jobs.confirm_delete"))) {
    await api("DELETE", `/api/jobs/${id}`);
    showJobs();
  }
});

$("#nav-jobs").addEventListener("click", () => { location.hash = "#/"; });
$("#nav-new").addEventListener("click", async () => {
  const job = await api("POST", "/api/jobs");
  location.hash = `#/job/${job.id}`;
});

async function openJob(id) {
  closeEvents();
  let job;
  try {
    job = await api("GET", `/api/jobs/${id}`);
  } catch (e) {
    location.hash = "#/";
    return;
  }
  state.job = job;
  state.cues = null;
  state.selected = -1;
  state.undo = [];
  state.redo = [];
  showView("job");
  saveState("");
  for (const box of $$(".error")) hideError(box);
  for (const box of $$(".progress")) box.hidden = true;
  $("#comment-text").value = job.comment;
  $("#comment-user").value = job.user;
  $("#comment-show-user").checked = job.show_user;
  const others = (job.answers || []).length - 1;
  $("#comment-answers").hidden = others < 1;
  $("#comment-answers").textContent = others >= 1 ? t("job.answers", { n: others }) : "";
  $(`input[name=reframe][value=${job.reframe}]`).checked = true;
  $(`input[name=caption_size][value=${job.caption_size}]`).checked = true;
  $(`input[name=end_card][value=${job.end_card || INFO.end_card_default}]`).checked = true;
  showClip(job);
  renderNotes([]);
  $("#card-img").hidden = true;
  $("#card-empty").hidden = false;
  if (job.comment.trim()) drawCard(id).catch(() => {});
  resetPreview();
  for (const note of $$(".task-note")) note.hidden = true;
  hideLearn();
  $("#find-count").textContent = "";
  await loadCaptions();
  showResult(job);
  if (job.has_clip) refreshPreview(0);
  if (job.task && (job.task.state === "running" || job.task.state === "waiting")) followTask();
  window.scrollTo(0, 0);
}

async function reloadJob() {
  if (!state.job) return;
  state.job = await api("GET", `/api/jobs/${state.job.id}`);
  showResult(state.job);
  showClips(state.job); // clips.js
}

// --- clip ---------------------------------------------------------------------------------

function showClip(job) {
  const has = job.has_clip;
  const count = (job.clips || []).length;
  $("#clip-current").hidden = !has;
  $("#clip-choose").hidden = has;
  $("#clip-choose-title").hidden = true;
  $("#clip-name").textContent = !has ? "" : count > 1 ? t("clips.current_many", { n: count })
    : t("clip.current", { name: job.clip_name });
  showClips(job); // clips.js: the tiles, join or duet
  $("#transcribe").disabled = !has;
  $("#render").disabled = !has;
  $("#clip-limit").textContent = t("clip.limit", { size: formatBytes(INFO.max_upload_bytes) });
  if (!has) loadExisting();
}

async function loadExisting() {
  const { clips } = await api("GET", "/api/clips");
  const select = $("#clip-existing");
  select.replaceChildren();
  for (const name of clips) {
    const o = document.createElement("option");
    o.value = o.textContent = name;
    select.append(o);
  }
  select.disabled = $("#clip-use").disabled = clips.length === 0;
  if (!clips.length) {
    const o = document.createElement("option");
    o.textContent = t("clip.none_existing");
    select.append(o);
  }
}

// "Lisää klippi": the chooser again; what is picked goes to the end of the list.
$("#clip-add").addEventListener("click", () => {
  $("#clip-choose").hidden = false;
  $("#clip-choose-title").hidden = false;
  loadExisting();
});

$("#clip-use").addEventListener("click", async () => {
  const name = $("#clip-existing").value;
  hideError($("#clip-error"));
  try {
    clipChanged(await api("POST", `/api/jobs/${state.job.id}/clip-ref`, { name, add: state.job.has_clip }));
  } catch (e) { showError($("#clip-error"), e); }
});

function clipChanged(job) {
  state.job = job;
  showClip(job);
  loadCaptions();
  showResult(job);
  $("#preview-empty").hidden = job.has_clip;
  refreshPreview(0);
}

const dropzone = $("#dropzone");
for (const name of ["dragenter", "dragover"]) {
  dropzone.addEventListener(name, (ev) => { ev.preventDefault(); dropzone.classList.add("over"); });
}
for (const name of ["dragleave", "drop"]) {
  dropzone.addEventListener(name, () => dropzone.classList.remove("over"));
}
dropzone.addEventListener("drop", (ev) => {
  ev.preventDefault();
  if (ev.dataTransfer.files.length) upload(ev.dataTransfer.files[0]);
});
$("#clip-file").addEventListener("change", (ev) => {
  if (ev.target.files.length) upload(ev.target.files[0]);
  ev.target.value = "";
});

function upload(file) {
  const box = $("#clip-error");
  hideError(box);
  if (file.size > INFO.max_upload_bytes) {
    showError(box, { key: "too_large" });
    return;
  }
  const progress = $("#clip-progress");
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", `/api/jobs/${state.job.id}/clip${state.job.has_clip ? "?add=1" : ""}`);
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
  xhr.upload.onprogress = (ev) => {
    if (ev.lengthComputable) setProgress(progress, ev.loaded / ev.total, t("clip.uploading", { pct: Math.round(100 * ev.loaded / ev.total) }));
  };
  xhr.onload = () => {
    progress.hidden = true;
    let data = {};
    try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
    if (xhr.status >= 200 && xhr.status < 300) clipChanged(data);
    else showError(box, new ApiError(xhr.status, data.error || { key: "upload_failed" }));
  };
  xhr.onerror = () => { progress.hidden = true; showError(box, { key: "upload_failed" }); };
  setProgress(progress, 0, t("clip.uploading", { pct: 0 }));
  xhr.send(file);
}

// --- comment and card ---------------------------------------------------------------------

function commentValues() {
  return {
    comment: $("#comment-text").value,
    user: $("#comment-user").value,
    show_user: $("#comment-show-user").checked,
  };
}

// The card as render draws it (the server saves the comment fields it is sent, if changed).
async function drawCard(id) {
  const data = await api("POST", `/api/jobs/${id}/card`, commentValues());
  if (!state.job || state.job.id !== id) return;
  const img = $("#card-img");
  img.src = `/api/jobs/${id}/card.png?v=${data.version}`;
  img.hidden = false;
  $("#card-empty").hidden = true;
  renderNotes(data.notes);
}

function refreshCard() {
  const id = state.job.id;
  const run = async () => { await drawCard(id); await reloadJob(); refreshPreview(); };
  const flush = () => {
    fetch(`/api/jobs/${id}`, { method: "PUT", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(commentValues()) });
  };
  schedule("comment", 400, run, flush);
}

function renderNotes(notes) {
  const list = $("#comment-notes");
  list.replaceChildren();
  for (const note of notes) {
    const li = document.createElement("li");
    li.className = `note ${note.key}`;
    const kinds = (note.kinds || []).map((k) => t(`kind.${k}`)).join(", ");
    const categories = (note.categories || []).map((c) => t(`category.${c}`)).join(", ");
    li.textContent = t(`note.${note.key}`, { kinds, categories });
    list.append(li);
  }
}

for (const sel of ["#comment-text", "#comment-user"]) $(sel).addEventListener("input", refreshCard);
$("#comment-show-user").addEventListener("change", refreshCard);

// --- look ---------------------------------------------------------------------------------

// Saved as soon as chosen; the end card does not change the preview frame (it follows the clip).
for (const input of $$("input[name=reframe], input[name=caption_size], input[name=end_card]")) {
  input.addEventListener("change", async () => {
    saveState("saving");
    try {
      state.job = await api("PUT", `/api/jobs/${state.job.id}`, { [input.name]: input.value });
      saveState("saved");
      showResult(state.job);
      if (input.name !== "end_card") refreshPreview(150);
    } catch (e) { saveState("failed"); }
  });
}

// --- long work: transcribe and render (server-sent events) ---------------------------------

function closeEvents() {
  if (state.source) { state.source.close(); state.source = null; }
}

function followTask() {
  closeEvents();
  const id = state.job.id;
  const source = new EventSource(`/api/jobs/${id}/events`);
  state.source = source;
  source.onmessage = (ev) => {
    const task = JSON.parse(ev.data);
    if (!state.job || state.job.id !== id) { source.close(); return; }
    if (task.state === "idle") { source.close(); return; }
    const kind = task.kind;
    const progress = $(`#${kind}-progress`);
    const button = $(`#${kind}`);
    const cancel = $(`#${kind}-cancel`);
    const going = task.state === "running" || task.state === "waiting";
    button.disabled = going;
    cancel.hidden = !going;
    if (going) $(`#${kind}-note`).hidden = true;
    const words = { render: "render", transcribe: "captions", sync: "sync" }[kind];
    if (task.state === "waiting") setProgress(progress, 0, t(`${words}.waiting`));
    if (task.state === "running") {
      const pct = Math.round(task.progress * 100);
      setProgress(progress, task.progress, t(`${words}.running`, { pct }));
    }
    if (task.state === "done" || task.state === "error" || task.state === "cancelled") {
      source.close();
      state.source = null;
      progress.hidden = true;
      button.disabled = false;
      cancel.hidden = true;
      cancel.disabled = false;
      cancel.textContent = t("task.cancel");
      if (task.state === "cancelled") {
        const note = $(`#${kind}-note`);
        note.textContent = t(`${kind}.cancelled`);
        note.hidden = false;
      }
      if (task.state === "error") {
        showError($(`#${kind}-error`), { key: task.error.kind === "unexpected" ? "unexpected" : errorKey(task.error.kind),
          message: task.error.message, hint: task.error.hint });
      }
      if (kind === "transcribe") loadCaptions(); else reloadJob();
    }
  };
  source.onerror = () => {
    // The stream ends when the task ends; a broken connection is retried by EventSource.
  };
}

function errorKey(kind) {
  return { InputError: "input_error", RenderError: "render_error", TranscribeError: "transcribe_error",
    OutputError: "output_error", ConfigError: "config_error" }[kind] || "error";
}

for (const cancel of $$("button.cancel")) {
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    cancel.textContent = t("task.cancelling");
    try { await api("POST", `/api/jobs/${state.job.id}/cancel`); } catch (e) { cancel.disabled = false; }
  });
}

async function startTask(kind) {
  const box = $(`#${kind}-error`);
  hideError(box);
  $(`#${kind}-note`).hidden = true;
  await flushAll();
  try {
    await api("POST", `/api/jobs/${state.job.id}/${kind}`);
    $(`#${kind}`).disabled = true;
    followTask();
  } catch (e) { showError(box, e); }
}

$("#transcribe").addEventListener("click", () => {
  if (state.cues && state.cues.length && !confirm(t("captions.confirm_retranscribe"))) return;
  startTask("transcribe");
});
$("#render").addEventListener("click", () => startTask("render"));

function showResult(job) {
  const result = $("#result");
  $("#render").textContent = job.has_output ? t("render.again") : t("render.button");
  $("#render-no-captions").hidden = !job.has_clip || job.has_captions;
  if (!job.has_output) { result.hidden = true; return; }
  const stamp = Math.round(job.rendered * 1000);
  const video = $("#result-video");
  const src = `/api/jobs/${job.id}/video?v=${stamp}`;
  if (video.getAttribute("src") !== src) video.src = src;
  $("#download").href = `/api/jobs/${job.id}/video?download=1&v=${stamp}`;
  $("#download").setAttribute("download", "");
  $("#result-state").textContent = job.state === "rendered" ? t("render.done") : t("render.outdated");
  $("#result-state").className = job.state === "rendered" ? "ok" : "warn";
  showLedgerNote(job);
  showReport(job.report || []);
  result.hidden = false;
}

// Beside the video: the help-resources end card and the checks after render (server:
// studio/report.py), each a message key with its values; problems red, warnings amber.
function showReport(notes) {
  const list = $("#result-report");
  list.replaceChildren();
  $(".report-box").hidden = notes.length === 0;
  for (const note of notes) {
    const li = document.createElement("li");
    li.className = `report-item ${note.level}`;
    li.dataset.key = note.key;
    const badge = document.createElement("span");
    badge.className = "level";
    badge.textContent = t(`report.level.${note.level}`);
    const text = document.createElement("span");
    text.textContent = t(note.key, reportValues(note.values || {}));
    li.append(badge, text);
    if (note.key === "check.other" && note.values && note.values.detail) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = t("error.details");
      const p = document.createElement("p");
      p.textContent = note.values.detail;
      details.append(summary, p);
      li.append(details);
    }
    list.append(li);
  }
}

// Values that are keys themselves become Finnish: kinds, categories, where, the check's name.
function reportValues(values) {
  const out = { ...values };
  if (values.kinds) out.kinds = values.kinds.map((k) => t(`kind.${k}`)).join(", ");
  if (values.categories) out.categories = values.categories.map((c) => t(`category.${c}`)).join(", ");
  if ("where" in values) out.where = t(`where.${values.where}`);
  if ("check" in values) out.check = t(`checkname.${values.check}`);
  return out;
}

// The answered ledger after a render: recorded under the worker's name, or why it was not
// (the video is made either way).
function showLedgerNote(job) {
  const note = $("#result-ledger");
  note.replaceChildren();
  note.className = "ledger-note";
  note.hidden = !(job.ledger_worker || job.ledger_warning);
  if (job.ledger_worker) note.textContent = t("render.ledger_ok", { worker: job.ledger_worker });
  if (job.ledger_warning) {
    note.classList.add("warn-box");
    const head = document.createElement("strong");
    head.textContent = t("render.ledger_failed");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = t("error.details");
    const p = document.createElement("p");
    p.textContent = job.ledger_warning;
    details.append(summary, p);
    note.append(head, details);
  }
}

// --- caption editor -----------------------------------------------------------------------

async function loadCaptions() {
  const id = state.job.id;
  const { cues } = await api("GET", `/api/jobs/${id}/captions`);
  if (!state.job || state.job.id !== id) return;
  state.cues = cues;
  state.undo = [];
  state.redo = [];
  state.selected = -1;
  const has = cues !== null;
  $("#transcribe").textContent = has ? t("captions.retranscribe") : t("captions.transcribe");
  $("#captions-intro").hidden = has;
  $("#captions-none").hidden = !(has && cues.length === 0);
  $("#editor").hidden = !has || cues.length === 0;
  state.job.has_captions = has;
  $("#render-no-captions").hidden = !state.job.has_clip || has;
  if (has && cues.length) {
    const player = $("#player");
    const src = editorSource(state.job); // clips.js: the clip, or the made video of several clips
    if (player.getAttribute("src") !== src) player.src = src;
    renderCues();
  }
}

function cueText(cue) { return cue.lines.join("\n"); }

function cueProblems(cue) {
  const lim = INFO.limits;
  const problems = [];
  for (const line of cue.lines) {
    if ([...line].length > lim.max_chars_per_line) {
      problems.push(t("editor.too_long", { n: [...line].length, max: lim.max_chars_per_line }));
      break;
    }
  }
  if (cue.lines.length > lim.max_lines) problems.push(t("editor.too_many_lines", { max: lim.max_lines }));
  const chars = [...cue.lines.join(" ")].length;
  const cps = chars / Math.max(cue.end - cue.start, 0.01);
  if (cps > lim.max_cps) {
    problems.push(t("editor.too_fast", { n: cps.toLocaleString("fi-FI", { maximumFractionDigits: 1 }),
      max: lim.max_cps.toLocaleString("fi-FI") }));
  }
  return problems;
}

function renderCues() {
  const list = $("#cue-list");
  list.replaceChildren();
  state.cues.forEach((cue, i) => {
    const li = document.createElement("li");
    li.className = "cue";
    li.dataset.i = i;
    const time = document.createElement("button");
    time.type = "button";
    time.className = "cue-time";
    // The text box lies over a copy of its text made of word spans (the backdrop), so the word
    // being spoken can be highlighted behind the text the person edits.
    const box = document.createElement("div");
    box.className = "cue-text";
    const backdrop = document.createElement("div");
    backdrop.className = "backdrop";
    backdrop.setAttribute("aria-hidden", "true");
    const area = document.createElement("textarea");
    area.rows = Math.max(2, cue.lines.length);
    area.value = cueText(cue);
    area.spellcheck = true;
    area.lang = "fi";
    box.append(backdrop, area);
    const warn = document.createElement("div");
    warn.className = "cue-warn";
    li.append(time, box, warn);
    list.append(li);
    updateCueRow(i);
    paintBackdrop(li);
  });
  markSelected();
  current = -1;
  currentWord = null;
  followPlayback();
}

// Word spans of a text box's text, whitespace kept as it is (so both wrap alike).
function paintBackdrop(li) {
  const area = $("textarea", li);
  const backdrop = $(".backdrop", li);
  backdrop.replaceChildren();
  let k = 0;
  for (const part of area.value.split(/(\s+)/)) {
    if (!part) continue;
    if (/^\s+$/.test(part)) { backdrop.append(document.createTextNode(part)); continue; }
    const span = document.createElement("span");
    span.className = "w";
    span.dataset.k = k++;
    span.textContent = part;
    backdrop.append(span);
  }
  backdrop.append(document.createTextNode("\n"));
}

// Token k of the text <-> word of the cue: one to one when the counts agree (the editor keeps
// them so); otherwise (a hyphenated line break) by position.
function tokenToWord(cue, k, tokens) {
  const n = cue.words.length;
  if (!n) return -1;
  if (tokens === n || tokens <= 1) return Math.min(k, n - 1);
  return Math.round(k * (n - 1) / (tokens - 1));
}

function wordToToken(cue, w, tokens) {
  const n = cue.words.length;
  if (tokens === n || n <= 1) return Math.min(w, tokens - 1);
  return Math.round(w * (tokens - 1) / (n - 1));
}

// The token under the caret (or the next one when the caret is between words).
function tokenAtCaret(text, caret) {
  const re = /\S+/g;
  let m;
  let k = 0;
  while ((m = re.exec(text))) {
    if (caret <= m.index + m[0].length) return k;
    k++;
  }
  return k - 1;
}

function seekToWord(i, area) {
  const cue = state.cues[i];
  if (!cue.words || !cue.words.length || area.selectionStart !== area.selectionEnd) return false;
  const tokens = (area.value.match(/\S+/g) || []).length;
  const k = tokenAtCaret(area.value, area.selectionStart);
  const w = tokenToWord(cue, Math.max(k, 0), tokens);
  if (w < 0) return false;
  seekPlayer(cue.words[w].start + 0.001); // clips.js: on the made video's clock
  return true;
}

function updateCueRow(i) {
  const li = $(`#cue-list li[data-i="${i}"]`);
  if (!li) return;
  const cue = state.cues[i];
  $(".cue-time", li).textContent = `${formatTime(cue.start)} – ${formatTime(cue.end)}`;
  const problems = cueProblems(cue);
  li.classList.toggle("bad", problems.length > 0);
  $(".cue-warn", li).textContent = problems.join(" ");
}

function markSelected() {
  for (const li of $$("#cue-list li")) li.classList.toggle("selected", Number(li.dataset.i) === state.selected);
}

function snapshot() {
  state.undo.push(JSON.stringify(state.cues));
  if (state.undo.length > 200) state.undo.shift();
  state.redo = [];
}

function saveCues() {
  const id = state.job.id;
  const body = () => JSON.stringify({ cues: state.cues });
  const run = () => api("PUT", `/api/jobs/${id}/captions`, { cues: state.cues }).then(() => { refreshPreview(); return reloadJob(); });
  const flush = () => {
    fetch(`/api/jobs/${id}/captions`, { method: "PUT", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: body() });
  };
  schedule("captions", 500, run, flush);
}

// Words of the new text keep the times of the old words they replace: a corrected word keeps its
// time; words added or removed in the middle share the time of what they replace.
function realign(cue, text) {
  const lines = text.split("\n").map((s) => s.replace(/\s+/g, " ").trim()).filter(Boolean);
  const tokens = lines.join(" ").split(" ").filter(Boolean);
  const old = cue.words || [];
  let p = 0;
  while (p < tokens.length && p < old.length && tokens[p] === old[p].word) p++;
  let s = 0;
  while (s < tokens.length - p && s < old.length - p && tokens[tokens.length - 1 - s] === old[old.length - 1 - s].word) s++;
  const midNew = tokens.slice(p, tokens.length - s);
  const midOld = old.slice(p, old.length - s);
  let mid;
  if (midNew.length === midOld.length) {
    mid = midNew.map((w, k) => ({ ...midOld[k], word: w }));
  } else {
    const a = midOld.length ? midOld[0].start : (p ? old[p - 1].end : cue.start);
    const b = midOld.length ? midOld[midOld.length - 1].end : (s ? old[old.length - s].start : cue.end);
    const total = midNew.reduce((n, w) => n + w.length, 0) || 1;
    let at = a;
    mid = midNew.map((w) => {
      const d = (b - a) * (w.length / total);
      const word = { word: w, start: at, end: at + d, probability: 1.0 };
      at += d;
      return word;
    });
  }
  cue.words = [...old.slice(0, p), ...mid, ...old.slice(old.length - s)];
  cue.lines = lines;
}

let editing = -1;
const list = $("#cue-list");

list.addEventListener("focusin", (ev) => {
  const li = ev.target.closest("li.cue");
  if (li) select(Number(li.dataset.i), ev.target.classList.contains("cue-time"));
});
list.addEventListener("click", (ev) => {
  const li = ev.target.closest("li.cue");
  if (!li) return;
  const i = Number(li.dataset.i);
  // A click on a word seeks to that word; elsewhere on the cue, to its start.
  if (ev.target.tagName === "TEXTAREA") { select(i, false); if (!seekToWord(i, ev.target)) select(i, true); }
  else select(i, true);
});
let wordsAtFocus = null;
list.addEventListener("focusin", (ev) => {
  const li = ev.target.closest("li.cue");
  if (li && ev.target.tagName === "TEXTAREA") wordsAtFocus = { i: Number(li.dataset.i), words: state.cues[Number(li.dataset.i)].words.map((w) => w.word) };
});
list.addEventListener("focusout", (ev) => {
  editing = -1;
  const li = ev.target.closest("li.cue");
  if (li && ev.target.tagName === "TEXTAREA" && wordsAtFocus && wordsAtFocus.i === Number(li.dataset.i)) {
    const cue = state.cues[wordsAtFocus.i];
    if (cue) offerLearn(correctedTerms(wordsAtFocus.words, cue.words.map((w) => w.word)));
  }
  wordsAtFocus = null;
});
list.addEventListener("input", (ev) => {
  const li = ev.target.closest("li.cue");
  if (!li || ev.target.tagName !== "TEXTAREA") return;
  const i = Number(li.dataset.i);
  if (editing !== i) { snapshot(); editing = i; }
  realign(state.cues[i], ev.target.value);
  updateCueRow(i);
  paintBackdrop(li);
  currentWord = null;
  saveCues();
});

function select(i, seek) {
  state.selected = i;
  markSelected();
  $("#editor-hint").hidden = true;
  if (seek) seekPlayer(state.cues[i].start + 0.01);
}

const ROUND = (x) => Math.round(x * 1000) / 1000;

function edit(fn) {
  const i = state.selected;
  if (i < 0 || i >= state.cues.length) {
    $("#editor-hint").textContent = t("editor.select_first");
    $("#editor-hint").hidden = false;
    return;
  }
  const before = JSON.stringify(state.cues);
  snapshot();
  if (fn(i) === false || JSON.stringify(state.cues) === before) { state.undo.pop(); return; }
  editing = -1;
  renderCues();
  saveCues();
}

function setStart(i, value) {
  const cue = state.cues[i];
  const prev = i > 0 ? state.cues[i - 1].end : 0;
  cue.start = ROUND(Math.min(Math.max(value, prev), cue.end - 0.1));
  for (const w of cue.words) { w.start = Math.max(w.start, cue.start); w.end = Math.max(w.end, w.start); }
}

function setEnd(i, value) {
  const cue = state.cues[i];
  const next = i + 1 < state.cues.length ? state.cues[i + 1].start : Infinity;
  const duration = playerDuration() || Infinity;
  cue.end = ROUND(Math.max(Math.min(value, next, duration), cue.start + 0.1));
  for (const w of cue.words) { w.end = Math.min(w.end, cue.end); w.start = Math.min(w.start, w.end); }
}

function splitAtCursor(i) {
  const li = $(`#cue-list li[data-i="${i}"]`);
  const area = $("textarea", li);
  const caret = area.selectionStart ?? 0;
  const cue = state.cues[i];
  realign(cue, area.value);
  const before = area.value.slice(0, caret).split(/\s+/).filter(Boolean).length;
  if (before <= 0 || before >= cue.words.length) return false;
  const at = ROUND(cue.words[before].start);
  if (at <= cue.start || at >= cue.end) return false;
  const firstWords = cue.words.slice(0, before);
  const secondWords = cue.words.slice(before);
  const first = { ...cue, end: at, words: firstWords, lines: [firstWords.map((w) => w.word).join(" ")] };
  const second = { ...cue, start: at, words: secondWords, lines: [secondWords.map((w) => w.word).join(" ")] };
  state.cues.splice(i, 1, first, second);
  return true;
}

function mergeNext(i) {
  if (i + 1 >= state.cues.length) return false;
  const a = state.cues[i];
  const b = state.cues[i + 1];
  const merged = { ...a, end: b.end, words: [...a.words, ...b.words], lines: [...a.lines, ...b.lines],
    font_scale: Math.min(a.font_scale ?? 1, b.font_scale ?? 1) };
  state.cues.splice(i, 2, merged);
  return true;
}

function undoRedo(from, to) {
  if (!from.length) return;
  to.push(JSON.stringify(state.cues));
  state.cues = JSON.parse(from.pop());
  if (state.selected >= state.cues.length) state.selected = state.cues.length - 1;
  editing = -1;
  renderCues();
  saveCues();
}

$(".toolbar").addEventListener("mousedown", (ev) => {
  // Keep the caret in the cue's text box, so "split" knows where it is.
  if (ev.target.closest("button")) ev.preventDefault();
});
$(".toolbar").addEventListener("click", (ev) => {
  const button = ev.target.closest("button");
  if (!button) return;
  const now = playerTime();
  const act = button.dataset.act;
  if (act === "undo") return undoRedo(state.undo, state.redo);
  if (act === "redo") return undoRedo(state.redo, state.undo);
  edit((i) => {
    const cue = state.cues[i];
    if (act === "start-here") setStart(i, now);
    if (act === "end-here") setEnd(i, now);
    if (act === "start-minus") setStart(i, cue.start - 0.1);
    if (act === "start-plus") setStart(i, cue.start + 0.1);
    if (act === "end-minus") setEnd(i, cue.end - 0.1);
    if (act === "end-plus") setEnd(i, cue.end + 0.1);
    if (act === "split") return splitAtCursor(i);
    if (act === "merge") return mergeNext(i);
    return true;
  });
});

document.addEventListener("keydown", (ev) => {
  if (!(ev.ctrlKey || ev.metaKey) || $("#editor").hidden) return;
  if (ev.target.tagName === "TEXTAREA" || ev.target.tagName === "INPUT") return;
  const key = ev.key.toLowerCase();
  if (key === "z" && !ev.shiftKey) { ev.preventDefault(); undoRedo(state.undo, state.redo); }
  if (key === "y" || (key === "z" && ev.shiftKey)) { ev.preventDefault(); undoRedo(state.redo, state.undo); }
});

// The current cue and word are highlighted during playback and the list follows.
let current = -1;
let currentWord = null; // the highlighted word span
function followPlayback() {
  const player = $("#player");
  if (!state.cues || !state.cues.length) return;
  const now = playerTime();
  const i = state.cues.findIndex((c) => now >= c.start && now < c.end);
  if (i !== current) {
    current = i;
    for (const li of $$("#cue-list li")) li.classList.toggle("current", Number(li.dataset.i) === i);
    const li = $(`#cue-list li[data-i="${i}"]`);
    if (li && !player.paused && editing < 0) li.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
  let span = null;
  if (i >= 0 && state.cues[i].words && state.cues[i].words.length) {
    const cue = state.cues[i];
    let w = -1;
    cue.words.forEach((word, k) => { if (word.start <= now + 1e-3) w = k; });
    const li = $(`#cue-list li[data-i="${i}"]`);
    if (w >= 0 && li) {
      const spans = $$(".backdrop .w", li);
      span = spans[wordToToken(cue, w, spans.length)] || null;
    }
  }
  if (span !== currentWord) {
    if (currentWord) currentWord.classList.remove("now");
    if (span) span.classList.add("now");
    currentWord = span;
  }
  if (!player.paused) requestAnimationFrame(followPlayback);
}
$("#player").addEventListener("play", () => requestAnimationFrame(followPlayback));
$("#player").addEventListener("seeked", followPlayback);
$("#player").addEventListener("timeupdate", followPlayback);
// The preview still follows the playhead when it stops somewhere.
$("#player").addEventListener("seeked", () => { if ($("#player").paused) refreshPreview(); });
$("#player").addEventListener("pause", () => refreshPreview());

// --- find and replace ----------------------------------------------------------------------

function countMatches(needle) {
  if (!needle || !state.cues) return 0;
  return state.cues.reduce((n, cue) => n + cueText(cue).split(needle).length - 1, 0);
}

function showMatchCount() {
  const needle = $("#find-text").value;
  const n = countMatches(needle);
  $("#find-count").textContent = !needle ? "" : n === 0 ? t("find.no_matches") : n === 1 ? t("find.one_match") : t("find.matches", { n });
}

$("#find-text").addEventListener("input", showMatchCount);

function replaceAll() {
  const needle = $("#find-text").value;
  const replacement = $("#replace-text").value;
  if (!needle || !state.cues) return;
  const n = countMatches(needle);
  if (!n) { showMatchCount(); return; }
  flushAll();
  snapshot();
  const before = state.cues.map((cue) => cue.words.map((w) => w.word));
  for (const cue of state.cues) {
    const text = cueText(cue);
    if (text.includes(needle)) realign(cue, text.split(needle).join(replacement));
  }
  // A cue whose text was only the needle is left with no words: it goes (undo brings it back).
  state.cues = state.cues.filter((cue) => cue.lines.length);
  editing = -1;
  renderCues();
  saveCues();
  $("#find-count").textContent = t("find.replaced", { n });
  const after = state.cues.map((cue) => cue.words.map((w) => w.word));
  offerLearn(correctedTerms(before.flat(), after.flat()));
}

$("#replace-all").addEventListener("click", replaceAll);
for (const sel of ["#find-text", "#replace-text"]) {
  $(sel).addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); replaceAll(); } });
}

// --- learn the words -----------------------------------------------------------------------

const vocab = { terms: [], dismissed: new Set(), offers: [] };

function bareWord(word) { return word.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, ""); }

// Words of `after` that a person typed in place of others: changed at the same place when the
// count is the same, else the words that were not there before. Only words with a letter.
function correctedTerms(before, after) {
  const old = new Set(before.map(bareWord));
  const found = [];
  after.forEach((word, k) => {
    const bare = bareWord(word);
    const changed = before.length === after.length ? bare !== bareWord(before[k]) : !old.has(bare);
    if (changed && bare.length >= 2 && /\p{L}/u.test(bare)) found.push(bare);
  });
  return [...new Set(found)];
}

function offerLearn(terms) {
  const known = new Set(vocab.terms.map((x) => x.toLowerCase()));
  for (const term of terms) {
    const key = term.toLowerCase();
    if (known.has(key) || vocab.dismissed.has(key) || vocab.offers.some((x) => x.toLowerCase() === key)) continue;
    vocab.offers.push(term);
  }
  showLearn();
}

function showLearn() {
  const term = vocab.offers[0];
  $("#learn-offer").hidden = !term;
  if (term) {
    $("#learn-text").textContent = t("learn.offer", { term });
    $("#learn-done").hidden = true;
  }
}

function hideLearn() {
  vocab.offers = [];
  $("#learn-offer").hidden = true;
  $("#learn-done").hidden = true;
}

$("#learn-add").addEventListener("click", async () => {
  const term = vocab.offers.shift();
  if (!term) return;
  try {
    showVocab(await api("POST", "/api/vocabulary", { term }));
    $("#learn-done").textContent = t("learn.added", { term });
    $("#learn-done").hidden = false;
  } catch (e) { vocab.offers.unshift(term); }
  showLearn();
});
$("#learn-dismiss").addEventListener("click", () => {
  const term = vocab.offers.shift();
  if (term) vocab.dismissed.add(term.toLowerCase());
  showLearn();
});

function showVocab(data) {
  vocab.terms = data.terms;
  $("#vocab-count").textContent = data.terms.length;
  $("#vocab-file").textContent = data.file;
  $("#vocab-empty").hidden = data.terms.length > 0;
  const ul = $("#vocab-list");
  ul.replaceChildren();
  for (const term of data.terms) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = term;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.dataset.term = term;
    b.textContent = t("vocab.remove");
    b.setAttribute("aria-label", t("vocab.remove_label", { term }));
    li.append(name, b);
    ul.append(li);
  }
}

$("#vocab-list").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-term]");
  if (b) showVocab(await api("POST", "/api/vocabulary/remove", { term: b.dataset.term }));
});

// --- preview still of the 9:16 frame -------------------------------------------------------

const preview = { timer: null, seq: 0 };

function resetPreview() {
  clearTimeout(preview.timer);
  preview.seq += 1;
  $("#preview-img").hidden = true;
  $("#preview-img").removeAttribute("src");
  // With a clip the frame is on its way ("Päivitetään…"); without, say what will appear here.
  $("#preview-empty").hidden = Boolean(state.job && state.job.has_clip);
  $("#preview-busy").hidden = true;
  $("#preview-at").textContent = "";
  hideError($("#preview-error"));
}

function playhead() {
  const player = $("#player");
  return !$("#editor").hidden && player.getAttribute("src") ? playerTime() || 0 : 0;
}

// Ask the server for the frame at the playhead after `delay` ms of quiet; only the newest
// answer is shown.
function refreshPreview(delay = 700) {
  if (!state.job || !state.job.has_clip) return;
  clearTimeout(preview.timer);
  preview.timer = setTimeout(makePreview, delay);
}

async function makePreview() {
  const id = state.job.id;
  const seq = ++preview.seq;
  const at = Math.round(playhead() * 1000) / 1000;
  $("#preview-busy").hidden = false;
  try {
    const data = await api("POST", `/api/jobs/${id}/preview`, { at });
    if (seq !== preview.seq || !state.job || state.job.id !== id) return;
    const img = $("#preview-img");
    await new Promise((resolve) => {
      img.onload = img.onerror = resolve;
      img.src = `/api/jobs/${id}/preview.png?v=${data.version}`;
    });
    if (seq !== preview.seq) return;
    img.hidden = false;
    img.dataset.version = data.version;
    $("#preview-empty").hidden = true;
    $("#preview-at").textContent = t("preview.at", { time: formatTime(at) });
    hideError($("#preview-error"));
  } catch (e) {
    if (seq === preview.seq) showError($("#preview-error"), e instanceof ApiError && e.info.key === "no_clip" ? e : { key: "preview" });
  } finally {
    if (seq === preview.seq) $("#preview-busy").hidden = true;
  }
}

$("#preview-refresh").addEventListener("click", () => { clearTimeout(preview.timer); makePreview(); });

// --- start --------------------------------------------------------------------------------

async function start() {
  const lang = document.documentElement.lang || "fi";
  MSG = await (await fetch(`/static/messages.${lang}.json`, { credentials: "same-origin" })).json();
  document.title = t("app.title");
  applyTexts();
  INFO = await api("GET", "/api/info");
  $("#footer").textContent = t("footer.folder", { folder: INFO.folder });
  api("GET", "/api/vocabulary").then(showVocab).catch(() => {});
  route();
}

// After every deferred script (comments.js too) has run.
document.addEventListener("DOMContentLoaded", start);
