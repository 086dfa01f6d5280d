// Sossut-studio: a reply's clips. Tiles in order (drag, or the arrow buttons), each with its cut
// and a remove button; the kind of reply (clips one after another, or two phones of one
// conversation); and for a duet the offset between the two recordings on two waveforms, found
// from their sound by the server (a task, as transcribe and render) and adjustable by hand.
// Uses app.js's $, $$, t, api, state, schedule, saveState, showError, hideError, startTask.
"use strict";

const clipsView = { jobId: null, order: "", dragKey: null, waves: {}, offset: 0, drag: null, view: null, autoSync: "" };

function secondsText(s, digits = 2) {
  return Math.abs(s).toLocaleString("fi-FI", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cutLength(clip) {
  const end = clip.end ?? clip.duration;
  return Math.max(0, end - clip.start);
}

function isDuet(job) { return job.kind === "duet" && (job.clips || []).length === 2; }

// --- the caption editor's player on the made video's clock -------------------------------------
// Captions are on the clock of the video the job makes. One clip: the clip itself. Several clips:
// the player plays each clip's cut in turn (switching the source), and times are mapped between
// the video's clock and the clip playing. A duet: over the time both cover, the recording whose
// sound is used; with the speaker's sound, each turn from the speaker's recording (the core's shots). (The picture is a clip's, not the finished layout: "Tee video" shows that.)

const timeline = { segments: null, index: 0, signature: "", pending: null };

function clipSegments(job) {
  const clips = job.clips || [];
  if (clips.length < 2 || clips.some((c) => !c.duration)) return null;
  if (isDuet(job)) {
    const offset = job.duet_offset;
    if (offset === null || offset === undefined) return null;
    const [a, b] = clips;
    const startA = Math.max(0, offset);
    const length = Math.min(a.duration, offset + b.duration) - startA;
    if (length <= 0) return null;
    const shots = duetShots.signature === shotsSignature(job) && duetShots.follows ? duetShots.shots : null;
    if (shots && shots.length) { // the speaker's sound: each shot from the phone of whoever speaks
      return shots.map((shot) => ({ key: (shot.speaker ? b : a).key, at: shot.start,
        from: (shot.speaker ? startA - offset : startA) + shot.start, length: shot.end - shot.start }));
    }
    const voiceB = INFO.duet_sound === "b";
    return [{ key: (voiceB ? b : a).key, at: 0, from: voiceB ? startA - offset : startA, length }];
  }
  const lengths = clips.map(cutLength);
  const fade = Math.min(INFO.join_crossfade || 0, Math.min(...lengths) / 2);
  let at = 0;
  return clips.map((clip, i) => {
    const length = lengths[i] - (i < clips.length - 1 ? fade : 0);
    const segment = { key: clip.key, at, from: clip.start, length };
    at += lengths[i] - fade;
    return segment;
  });
}

// Who speaks when in a duet (the core's turns, GET .../duet/shots), for the player to follow the
// speaker's recording as the made video's sound does; until they come, one recording plays.
const duetShots = { signature: "", shots: null, follows: false };

function shotsSignature(job) {
  return JSON.stringify([job.id, job.duet_offset, job.duet_layout, (job.clips || []).map((c) => c.key)]);
}

async function loadShots(job) {
  const signature = shotsSignature(job);
  if (duetShots.signature === signature) return;
  duetShots.signature = signature;
  duetShots.shots = null;
  let data;
  try {
    data = await api("GET", `/api/jobs/${job.id}/duet/shots`);
  } catch (e) {
    return; // the player keeps playing one recording; the render says what is wrong
  }
  if (duetShots.signature !== signature) return;
  duetShots.shots = data.shots;
  duetShots.follows = data.follows_speaker;
  if (!state.job || state.job.id !== job.id || $("#editor").hidden || !$("#player").getAttribute("src")) return;
  const time = playerTime();
  editorSource(state.job);
  if (timeline.segments) seekPlayer(time);
}

function segmentSource(job, segment) { return `/api/jobs/${job.id}/clips/${segment.key}`; }

function editorSource(job) {
  const segments = clipSegments(job);
  const signature = JSON.stringify(segments);
  if (signature !== timeline.signature) timeline.index = 0;
  timeline.signature = signature;
  timeline.segments = segments;
  timeline.pending = null;
  const note = $("#player-clock");
  note.hidden = (job.clips || []).length < 2;
  const follows = isDuet(job) && segments && segments.length > 1;
  note.textContent = follows ? t("clips.player_duet_speaker") : isDuet(job) ? t("clips.player_duet") : t("clips.player_join");
  return segments ? segmentSource(job, segments[timeline.index]) : `/api/jobs/${job.id}/clip`;
}

function playerTime() {
  const player = $("#player");
  const segments = timeline.segments;
  if (!segments) return player.currentTime;
  const segment = segments[timeline.index];
  return segment.at + Math.min(Math.max(player.currentTime - segment.from, 0), segment.length);
}

function playerDuration() {
  const segments = timeline.segments;
  if (!segments) return $("#player").duration;
  const last = segments[segments.length - 1];
  return last.at + last.length;
}

// One seek waits for a source being loaded, the last one asked for: a cue's button seeks on focus
// and again on click, and a seek asked before the metadata came must not undo a later one.
function playSegment(i, into, play) {
  const player = $("#player");
  const segment = timeline.segments[i];
  timeline.index = i;
  const src = segmentSource(state.job, segment);
  timeline.pending = { time: segment.from + into, play };
  if (player.getAttribute("src") !== src) player.src = src;
  else if (player.readyState >= HTMLMediaElement.HAVE_METADATA) applyPendingSeek();
}

function applyPendingSeek() {
  const pending = timeline.pending;
  if (!pending) return;
  timeline.pending = null;
  const player = $("#player");
  player.currentTime = pending.time;
  if (pending.play) player.play().catch(() => {});
}

function seekPlayer(time) {
  const segments = timeline.segments;
  if (!segments) { timeline.pending = null; $("#player").currentTime = time; return; }
  let i = segments.findIndex((s) => time < s.at + s.length);
  if (i < 0) i = segments.length - 1;
  playSegment(i, Math.min(Math.max(time - segments[i].at, 0), segments[i].length), !$("#player").paused);
}

// At the end of a clip's cut the next one plays (or the last one stops); checked every frame
// while playing, as timeupdate comes only a few times a second.
function checkSegmentEnd() {
  const segments = timeline.segments;
  const player = $("#player");
  if (!segments || player.seeking || !player.getAttribute("src")) return;
  const segment = segments[timeline.index];
  if (player.currentTime < segment.from + segment.length - 0.02) return;
  if (timeline.index < segments.length - 1) playSegment(timeline.index + 1, 0, !player.paused);
  else if (!player.paused) player.pause();
}

function watchSegments() {
  checkSegmentEnd();
  if (!$("#player").paused && timeline.segments) requestAnimationFrame(watchSegments);
}

$("#player").addEventListener("loadedmetadata", applyPendingSeek);
$("#player").addEventListener("timeupdate", checkSegmentEnd);
$("#player").addEventListener("play", () => requestAnimationFrame(watchSegments));

// --- tiles ------------------------------------------------------------------------------------

function showClips(job) {
  const clips = job.clips || [];
  const order = clips.map((c) => c.key).join(",");
  if (clipsView.jobId !== job.id) { clipsView.waves = {}; clipsView.view = null; }
  // Rebuilt only when the clips or their order changed: a field being typed in keeps its focus.
  if (clipsView.jobId !== job.id || clipsView.order !== order) buildTiles(job);
  clipsView.jobId = job.id;
  clipsView.order = order;
  for (const clip of clips) {
    const li = $(`#clip-list li[data-key="${clip.key}"]`);
    if (!li) continue;
    const start = $(".trim-start", li);
    const end = $(".trim-end", li);
    if (document.activeElement !== start) start.value = clip.start ? String(clip.start) : "0";
    if (document.activeElement !== end) end.value = clip.end === null ? "" : String(clip.end);
  }
  const duet = isDuet(job);
  $("#clip-list").classList.toggle("duet", duet);
  $("#clip-kind").hidden = clips.length < 2;
  for (const radio of $$("input[name=kind]")) radio.checked = radio.value === (duet ? "duet" : "join");
  $("input[name=kind][value=duet]").disabled = clips.length !== 2;
  $("#clip-kind-help").textContent = duet ? t("clips.kind.duet_help")
    : clips.length === 2 || clips.length < 2 ? t("clips.kind.join_help") : `${t("clips.kind.join_help")} ${t("clips.kind.duet_needs_two")}`;
  const total = $("#clip-total");
  total.hidden = clips.length < 2;
  total.textContent = duet ? t("clips.duet_total")
    : t("clips.total", { time: formatTime(clips.reduce((sum, c) => sum + cutLength(c), 0)) });
  $("#captions-stale").hidden = !job.captions_stale;
  $("#duet").hidden = !duet;
  if (duet) showDuet(job);
  // A new pair (chosen, reordered, one replaced): the server finds the offset from the sound.
  const going = state.source || (job.task && ["running", "waiting"].includes(job.task.state));
  if (duet && !job.duet_sync && !going && clipsView.autoSync !== `${job.id}:${order}`) {
    clipsView.autoSync = `${job.id}:${order}`;
    startTask("sync");
  }
}

function buildTiles(job) {
  const list = $("#clip-list");
  list.replaceChildren();
  const clips = job.clips || [];
  clips.forEach((clip, i) => list.append(clipTile(job, clip, i, clips.length)));
}

function button(cls, label, text, aria) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.title = label;
  b.setAttribute("aria-label", aria || label);
  return b;
}

function clipTile(job, clip, index, count) {
  const li = document.createElement("li");
  li.className = "clip-tile";
  li.dataset.key = clip.key;
  li.draggable = count > 1;
  const handle = document.createElement("span");
  handle.className = "handle";
  handle.textContent = "⠿";
  handle.title = t("clips.drag");
  handle.setAttribute("aria-hidden", "true");
  const number = document.createElement("span");
  number.className = "number";
  number.textContent = t("clips.number", { n: index + 1 });
  const thumb = document.createElement("video");
  thumb.className = "thumb";
  thumb.muted = true;
  thumb.preload = "metadata";
  thumb.setAttribute("aria-hidden", "true");
  thumb.tabIndex = -1;
  if (!clip.missing) thumb.src = `/api/jobs/${job.id}/clips/${clip.key}#t=0.5`; // the browser shows that frame
  const info = document.createElement("div");
  info.className = "clip-info";
  const name = document.createElement("strong");
  name.className = "clip-title";
  name.textContent = clip.name;
  const length = document.createElement("span");
  length.className = "muted small";
  length.textContent = clip.duration ? t("clips.length", { time: formatTime(clip.duration) }) : t("clips.length_unknown");
  info.append(name, length);
  if (clip.missing) {
    const missing = document.createElement("span");
    missing.className = "warn small";
    missing.textContent = t("clips.missing");
    info.append(missing);
  }
  const trim = document.createElement("div");
  trim.className = "trim";
  for (const [cls, label, placeholder] of [["trim-start", "clips.start", ""], ["trim-end", "clips.end", "clips.end_placeholder"]]) {
    const field = document.createElement("label");
    const span = document.createElement("span");
    span.textContent = t(label);
    const input = document.createElement("input");
    input.type = "number";
    input.className = cls;
    input.min = "0";
    input.step = "0.1";
    if (clip.duration) input.max = String(clip.duration);
    if (placeholder) input.placeholder = t(placeholder);
    field.append(span, input);
    trim.append(field);
  }
  const actions = document.createElement("div");
  actions.className = "clip-actions";
  const up = button("move-up", t("clips.up"), "↑");
  const down = button("move-down", t("clips.down"), "↓");
  up.disabled = index === 0;
  down.disabled = index === count - 1;
  const remove = button("remove danger", t("clips.remove"), t("clips.remove"), t("clips.remove_named", { name: clip.name }));
  actions.append(up, down, remove);
  li.append(handle, number, thumb, info, trim, actions);
  return li;
}

function currentOrder() { return $$("#clip-list li").map((li) => li.dataset.key); }

async function saveOrder(order, focusKey) {
  const id = state.job.id;
  hideError($("#clip-error"));
  saveState("saving");
  try {
    const job = await api("POST", `/api/jobs/${id}/clips/order`, { order });
    if (!state.job || state.job.id !== id) return;
    clipChanged(job);
    saveState("saved");
    const moved = $(`#clip-list li[data-key="${focusKey}"]`);
    if (moved) {
      $("#save-state").textContent = t("clips.moved", { n: order.indexOf(focusKey) + 1 });
      const again = $(document.activeElement && document.activeElement.classList.contains("move-down") ? ".move-down" : ".move-up", moved);
      (again && !again.disabled ? again : $(".move-up:not(:disabled), .move-down:not(:disabled)", moved))?.focus();
    }
  } catch (e) {
    saveState("failed");
    showError($("#clip-error"), e);
    clipsView.order = "";
    showClips(state.job);
  }
}

$("#clip-list").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button");
  const li = ev.target.closest("li.clip-tile");
  if (!b || !li || !state.job) return;
  const order = currentOrder();
  const i = order.indexOf(li.dataset.key);
  if (b.classList.contains("move-up") && i > 0) {
    [order[i - 1], order[i]] = [order[i], order[i - 1]];
    saveOrder(order, li.dataset.key);
  }
  if (b.classList.contains("move-down") && i < order.length - 1) {
    [order[i + 1], order[i]] = [order[i], order[i + 1]];
    saveOrder(order, li.dataset.key);
  }
  if (b.classList.contains("remove")) {
    const clip = state.job.clips.find((c) => c.key === li.dataset.key);
    if (!confirm(t("clips.confirm_remove", { name: clip ? clip.name : "" }))) return;
    try {
      clipChanged(await api("DELETE", `/api/jobs/${state.job.id}/clips/${li.dataset.key}`));
    } catch (e) { showError($("#clip-error"), e); }
  }
});

// A cut is saved when a field is left (or Enter): start and end in seconds of the clip.
$("#clip-list").addEventListener("change", async (ev) => {
  const li = ev.target.closest("li.clip-tile");
  if (!li || !ev.target.matches(".trim-start, .trim-end")) return;
  const start = Number($(".trim-start", li).value || 0);
  const endText = $(".trim-end", li).value.trim();
  const end = endText === "" ? null : Number(endText);
  const id = state.job.id;
  hideError($("#clip-error"));
  saveState("saving");
  try {
    state.job = await api("PUT", `/api/jobs/${id}/clips/${li.dataset.key}`, { start, end });
    saveState("saved");
    showClips(state.job);
    showResult(state.job);
  } catch (e) {
    saveState("");
    showError($("#clip-error"), e instanceof ApiError && e.info.key === "bad_request" ? { key: "bad_cut" } : e);
  }
});

// Drag a tile above or below another; the list shows where it will land.
const clipList = $("#clip-list");
clipList.addEventListener("dragstart", (ev) => {
  const li = ev.target.closest("li.clip-tile");
  if (!li) return;
  clipsView.dragKey = li.dataset.key;
  li.classList.add("dragging");
  ev.dataTransfer.effectAllowed = "move";
  ev.dataTransfer.setData("text/plain", li.dataset.key);
});

function dropTarget(ev) {
  const over = ev.target.closest("li.clip-tile");
  if (!over || over.dataset.key === clipsView.dragKey) return null;
  const box = over.getBoundingClientRect();
  return { li: over, after: ev.clientY > box.top + box.height / 2 };
}

function clearMarks() {
  for (const li of $$("#clip-list li")) li.classList.remove("drop-before", "drop-after", "dragging");
}

clipList.addEventListener("dragover", (ev) => {
  if (!clipsView.dragKey) return;
  ev.preventDefault();
  ev.dataTransfer.dropEffect = "move";
  for (const li of $$("#clip-list li")) li.classList.remove("drop-before", "drop-after");
  const target = dropTarget(ev);
  if (target) target.li.classList.add(target.after ? "drop-after" : "drop-before");
});

clipList.addEventListener("drop", (ev) => {
  if (!clipsView.dragKey) return;
  ev.preventDefault();
  const target = dropTarget(ev);
  const key = clipsView.dragKey;
  clipsView.dragKey = null;
  clearMarks();
  if (!target) return;
  const order = currentOrder().filter((k) => k !== key);
  order.splice(order.indexOf(target.li.dataset.key) + (target.after ? 1 : 0), 0, key);
  saveOrder(order, key);
});

clipList.addEventListener("dragend", () => { clipsView.dragKey = null; clearMarks(); });

// --- kind: one after another, or a duet ----------------------------------------------------------

for (const radio of $$("input[name=kind]")) {
  radio.addEventListener("change", async () => {
    if (!radio.checked || !state.job) return;
    hideError($("#clip-error"));
    try {
      state.job = await api("PUT", `/api/jobs/${state.job.id}`, { kind: radio.value });
      showClips(state.job); // a new pair: the offset is looked for right away
      showResult(state.job);
    } catch (e) { showError($("#clip-error"), e); }
  });
}

// --- the duet: offset on two waveforms ------------------------------------------------------------

$("#sync").addEventListener("click", () => startTask("sync"));

function confidenceLevel(confidence) {
  const min = INFO.sync_min_confidence || 12;
  return confidence >= 3 * min ? "high" : confidence >= 1.5 * min ? "medium" : "low";
}

function offsetWords(offset) {
  if (Math.abs(offset) < 0.005) return t("duet.found_same");
  return t(offset > 0 ? "duet.found_after" : "duet.found_before", { offset: secondsText(offset) });
}

function showDuet(job) {
  const [a, b] = job.clips;
  $("#wave-a-label").textContent = t("duet.label_a", { name: a.name });
  $("#wave-b-label").textContent = t("duet.label_b", { name: b.name });
  $("#sync").textContent = job.duet_sync ? t("duet.sync_again") : t("duet.sync");
  const usable = INFO.duet_layouts || ["stack"];
  for (const radio of $$("input[name=duet_layout]")) {
    radio.disabled = !usable.includes(radio.value);
    radio.checked = radio.value === job.duet_layout;
  }
  $("#duet-layout-note").hidden = usable.includes("switch");
  if (!clipsView.drag) {
    clipsView.offset = job.duet_offset ?? 0;
    const field = $("#duet-offset");
    if (document.activeElement !== field) field.value = offsetField(clipsView.offset);
  }
  $("#duet-sound-note").textContent = t(INFO.duet_sound === "speaker" ? "duet.sound.speaker" : "duet.sound.one");
  showDuetStatus(job);
  loadWaves(job);
  if (job.duet_offset !== null && job.duet_offset !== undefined && job.duet_sync !== "low") loadShots(job);
}

function showDuetStatus(job) {
  const status = $("#duet-status");
  status.className = "duet-status";
  const offset = clipsView.offset;
  if (job.duet_sync === "found") {
    status.textContent = `${offsetWords(offset)} ${t(`duet.level.${confidenceLevel(job.duet_confidence)}`)}`;
    status.classList.add(confidenceLevel(job.duet_confidence) === "low" ? "warn-box" : "ok");
  } else if (job.duet_sync === "low") {
    status.textContent = t("duet.sync_low");
    status.classList.add("warn-box");
  } else if (job.duet_sync === "manual") {
    status.textContent = `${offsetWords(offset)} ${t("duet.manual")}`;
  } else {
    status.textContent = t("duet.not_yet");
  }
  status.dataset.state = job.duet_sync || "none";
}

async function loadWaves(job) {
  const id = job.id;
  await Promise.all(job.clips.map(async (clip) => {
    if (clipsView.waves[clip.key]) return;
    clipsView.waves[clip.key] = "loading";
    try {
      clipsView.waves[clip.key] = await api("GET", `/api/jobs/${id}/clips/${clip.key}/waveform`);
    } catch (e) {
      delete clipsView.waves[clip.key];
    }
  }));
  if (state.job && state.job.id === id && isDuet(state.job)) drawWaves();
}

// Both waveforms on A's clock, from the earlier start to the later end: B drawn `offset` seconds
// to the right of A; the time both cover (what the video shows) shaded.
function drawWaves() {
  const job = state.job;
  const [a, b] = job.clips.map((c) => clipsView.waves[c.key]);
  if (!a || !b || a === "loading" || b === "loading") return;
  const offset = clipsView.offset;
  if (!clipsView.drag) {
    const from = Math.min(0, offset);
    const to = Math.max(a.duration, offset + b.duration);
    clipsView.view = { from, to };
  }
  const { from, to } = clipsView.view;
  const common = [Math.max(0, offset), Math.min(a.duration, offset + b.duration)];
  drawWave($("#wave-a"), a, 0, from, to, common, "#2563eb");
  drawWave($("#wave-b"), b, offset, from, to, common, "#d97706");
}

function drawWave(canvas, wave, start, from, to, common, colour) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(200, canvas.clientWidth);
  const height = canvas.clientHeight || 70;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const scale = width / Math.max(to - from, 0.001);
  const x = (time) => (time - from) * scale;
  g.fillStyle = "#eef0f3";
  g.fillRect(0, 0, width, height);
  if (common[1] > common[0]) {
    g.fillStyle = "#d7dbe2";
    g.fillRect(x(common[0]), 0, (common[1] - common[0]) * scale, height);
  }
  const mid = height / 2;
  g.fillStyle = colour;
  if (!wave.peaks.length) {
    g.fillRect(x(start), mid - 1, wave.duration * scale, 2);
  }
  // One bar a pixel column: the loudest point under it.
  const perPixel = wave.rate / scale;
  const left = Math.max(0, Math.floor(x(start)));
  const right = Math.min(width, Math.ceil(x(start + wave.duration)));
  for (let px = left; px < right; px += 1) {
    const i0 = Math.floor((px - x(start)) * perPixel);
    const i1 = Math.max(i0 + 1, Math.floor((px + 1 - x(start)) * perPixel));
    let peak = 0;
    for (let i = Math.max(0, i0); i < Math.min(wave.peaks.length, i1); i += 1) peak = Math.max(peak, wave.peaks[i]);
    const h = Math.max(1, peak * (height - 6));
    g.fillRect(px, mid - h / 2, 1, h);
  }
  g.fillStyle = "#111827";
  g.fillRect(x(start), 0, 2, height); // where the recording starts
  canvas.dataset.drawn = String(wave.peaks.length);
}

// The number field in Finnish: a decimal comma (a point is understood too).
function offsetField(value) { return value.toFixed(2).replace(".", ",").replace("-", "−"); }

function setOffset(value, save = true) {
  const rounded = Math.round(Math.min(3600, Math.max(-3600, value)) * 1000) / 1000;
  clipsView.offset = rounded;
  if (document.activeElement !== $("#duet-offset")) $("#duet-offset").value = offsetField(rounded);
  drawWaves();
  if (!save) return;
  const job = state.job;
  job.duet_offset = rounded;
  job.duet_sync = "manual";
  showDuetStatus(job);
  const id = job.id;
  const body = { duet_offset: rounded };
  schedule("offset", 400, async () => {
    const saved = await api("PUT", `/api/jobs/${id}`, body);
    if (state.job && state.job.id === id) { state.job = saved; showResult(saved); $("#captions-stale").hidden = !saved.captions_stale; }
  }, () => {
    fetch(`/api/jobs/${id}`, { method: "PUT", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  });
}

for (const b of $$("button[data-nudge]")) {
  b.addEventListener("click", () => setOffset(clipsView.offset + Number(b.dataset.nudge)));
}

$("#duet-offset").addEventListener("change", (ev) => {
  const text = String(ev.target.value).trim().replace(",", ".").replace("−", "-").replace(/\s/g, "");
  const value = text === "" ? NaN : Number(text);
  if (Number.isFinite(value)) setOffset(value);
  else ev.target.value = offsetField(clipsView.offset); // not a number: back to what it was
});

// Drag B's waveform sideways (the scale stays as it was when the drag began).
const waveB = $("#wave-b");
waveB.addEventListener("pointerdown", (ev) => {
  if (!clipsView.view) return;
  waveB.setPointerCapture(ev.pointerId);
  const { from, to } = clipsView.view;
  clipsView.drag = { x: ev.clientX, offset: clipsView.offset, perPx: (to - from) / waveB.clientWidth };
});
waveB.addEventListener("pointermove", (ev) => {
  const drag = clipsView.drag;
  if (!drag) return;
  setOffset(drag.offset + (ev.clientX - drag.x) * drag.perPx, false);
});
function endDrag() {
  if (!clipsView.drag) return;
  clipsView.drag = null;
  setOffset(Math.round(clipsView.offset * 100) / 100);
}
waveB.addEventListener("pointerup", endDrag);
waveB.addEventListener("pointercancel", endDrag);
waveB.addEventListener("keydown", (ev) => {
  const step = ev.shiftKey ? 0.1 : 0.01;
  if (ev.key === "ArrowLeft") { ev.preventDefault(); setOffset(clipsView.offset - step); }
  if (ev.key === "ArrowRight") { ev.preventDefault(); setOffset(clipsView.offset + step); }
});

for (const radio of $$("input[name=duet_layout]")) {
  radio.addEventListener("change", async () => {
    if (!radio.checked || !state.job) return;
    try {
      state.job = await api("PUT", `/api/jobs/${state.job.id}`, { duet_layout: radio.value });
      showResult(state.job);
    } catch (e) { showError($("#clip-error"), e); }
  });
}

// No video or captions from a guessed offset: after "no sure offset" a person sets it first.
document.addEventListener("click", (ev) => {
  const b = ev.target.closest("#render, #transcribe");
  if (!b || !state.job || !isDuet(state.job) || state.job.duet_sync !== "low") return;
  ev.preventDefault();
  ev.stopImmediatePropagation();
  showError($(`#${b.id}-error`), { key: "duet_offset_needed" });
  $("#duet").scrollIntoView({ behavior: "smooth", block: "start" });
  $("#duet-offset").focus({ preventScroll: true });
}, true);

window.addEventListener("resize", () => { if (state.job && isDuet(state.job)) drawWaves(); });
