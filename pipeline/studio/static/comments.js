// Sossut-studio: the "Kommentit" view. Uses app.js's $, t(), api(), showError(), schedule().
// The server reads, sorts and stores the comments (the same code as `sossut comments check`);
// this file only shows its answer. Hate comes from the server only when asked for.
"use strict";

const inboxView = { data: null, showHate: false, loading: 0 };

async function showComments() {
  closeEvents();
  state.job = null;
  showView("comments");
  hideError($("#comments-error"));
  await loadComments();
}

async function loadComments() {
  const seq = ++inboxView.loading;
  try {
    const data = await api("GET", `/api/comments${inboxView.showHate ? "?hate=1" : ""}`);
    if (seq === inboxView.loading) renderComments(data);
  } catch (e) { showError($("#comments-error"), e); }
}

$("#nav-comments").addEventListener("click", () => { location.hash = "#/kommentit"; });

// --- adding comments ------------------------------------------------------------------------

async function sortPasted() {
  const box = $("#comments-text");
  if (!box.value.trim()) { box.focus(); return; }
  await busy(async () => {
    inboxView.showHate = false;
    renderComments(await api("POST", "/api/comments", { text: box.value }));
    box.value = "";
    const draft = pending.get("comments-draft"); // sorted: nothing left to keep
    if (draft) { clearTimeout(draft.timer); pending.delete("comments-draft"); }
  });
}

async function openFile(file) {
  await busy(async () => {
    let res;
    try {
      res = await fetch("/api/comments/file", { method: "POST", body: file, credentials: "same-origin",
        headers: { "Content-Type": "application/octet-stream", "X-File-Name": encodeURIComponent(file.name) } });
    } catch (e) { throw new ApiError(0, { key: "network" }); }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, data.error || { key: "error" });
    inboxView.showHate = false;
    renderComments(data);
  });
}

async function busy(work) {
  hideError($("#comments-error"));
  $("#comments-busy").hidden = false;
  $("#comments-sort").disabled = true;
  try { await work(); } catch (e) { showError($("#comments-error"), e); } finally {
    $("#comments-busy").hidden = true;
    $("#comments-sort").disabled = false;
  }
}

$("#comments-sort").addEventListener("click", sortPasted);
$("#comments-text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); sortPasted(); }
});
// What is pasted but not sorted yet is kept in the studio folder too (a reload loses nothing).
$("#comments-text").addEventListener("input", () => {
  const save = (keepalive) => fetch("/api/comments/draft", { method: "PUT", keepalive, credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: $("#comments-text").value }) });
  schedule("comments-draft", 500, () => save(false).then((r) => { if (!r.ok) throw new Error("draft"); }),
    () => save(true));
});
$("#comments-file").addEventListener("change", (ev) => {
  if (ev.target.files.length) openFile(ev.target.files[0]);
  ev.target.value = "";
});
$("#comments-more").addEventListener("click", () => {
  $("#comments-add").hidden = false;
  $("#comments-text").focus();
});
$("#comments-clear").addEventListener("click", async () => {
  if (!confirm(t("comments.confirm_clear"))) return;
  inboxView.showHate = false;
  try { renderComments(await api("DELETE", "/api/comments")); } catch (e) { showError($("#comments-error"), e); }
});

// --- the inbox ------------------------------------------------------------------------------

const SECTION_ORDER = ["personal", "question", "other", "spam", "hate"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function categoryLabel(category) {
  const label = t(`category.${category}`);
  return label === `category.${category}` ? category : label;
}

function formatDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return y && m && d ? `${d}.${m}.${y}` : iso;
}

function renderComments(data) {
  inboxView.data = data;
  const inbox = data.inbox;
  const has = data.total > 0;

  // Who answers, and where the answers are marked.
  const worker = $("#comments-worker");
  worker.replaceChildren();
  worker.append(el("strong", "", data.worker ? t("comments.worker", { worker: data.worker }) : t("comments.worker_none")));
  if (data.worker && !data.worker_configured) worker.append(el("span", "muted small", t("comments.worker_login")));
  worker.append(el("span", "muted small", t("comments.ledger_folder", { folder: data.ledger_folder })));

  // The paste box: open when the list is empty or something waits in it.
  $("#comments-loaded").hidden = !has;
  $("#comments-total").textContent = data.total === 1 ? t("comments.total_one") : t("comments.total", { n: data.total });
  const box = $("#comments-text");
  if (!box.value && data.draft && !pending.has("comments-draft")) box.value = data.draft;
  $("#comments-add").hidden = has && !box.value;

  const warnings = $("#comments-warnings");
  warnings.replaceChildren();
  for (const w of data.warnings) {
    const li = el("li", "note", t(`comments.warning.${w.key}`));
    if (w.message) li.title = [w.message, w.hint].filter(Boolean).join(" – ");
    warnings.append(li);
  }

  $("#comments-summary").textContent = has ? summaryText(data) : "";
  const root = $("#inbox");
  root.replaceChildren();
  if (!has) { root.append(el("p", "muted empty", t("comments.empty"))); return; }
  const bySection = {};
  for (const item of inbox.items) (bySection[item.section] ||= []).push(item);
  for (const section of SECTION_ORDER) {
    if (section === "hate") { if (inbox.hidden) root.append(hateSection(data, bySection.hate || [])); continue; }
    const items = bySection[section] || [];
    if (items.length) root.append(commentSection(section, items, inbox));
  }
}

function summaryText(data) {
  const c = data.inbox.counts;
  const parts = [t("comments.summary", { n: data.total })];
  if (c.personal) parts.push(t("comments.summary.personal", { n: c.personal }));
  if (c.question) {
    const groups = new Set(data.inbox.items.filter((i) => i.section === "question").map((i) => i.group)).size;
    parts.push(t("comments.summary.question", { n: c.question, groups }));
  }
  const answered = data.inbox.items.filter((i) => i.answered.length).length;
  if (answered) parts.push(t("comments.summary.answered", { n: answered }));
  if (data.inbox.hidden) parts.push(t("comments.summary.hidden", { n: data.inbox.hidden }));
  return parts.join(" · ");
}

function sectionBox(section, count) {
  const box = el("section", `inbox-section ${section}`);
  box.dataset.section = section;
  const head = el("h3", "");
  head.append(el("span", "", t(`section.${section}`)), el("span", "count", String(count)));
  box.append(head);
  const hint = t(`section.${section}.hint`);
  if (hint !== `section.${section}.hint`) box.append(el("p", section === "personal" ? "care-hint" : "muted section-hint", hint));
  return box;
}

function commentSection(section, items, inbox) {
  // A question group is one row: its first comment, with the others behind "Näytä samaa kysyvät".
  const rows = [];
  const seen = new Set();
  for (const item of items) {
    if (item.group !== null && section === "question") {
      if (seen.has(item.group)) continue;
      seen.add(item.group);
      rows.push({ item, members: items.filter((i) => i.group === item.group) });
    } else rows.push({ item, members: [item] });
  }
  const box = sectionBox(section, items.length);
  const list = el("ol", "comment-list");
  for (const row of rows) list.append(commentRow(section, row.item, row.members));
  box.append(list);
  return box;
}

function commentRow(section, item, members) {
  const li = el("li", "comment");
  li.dataset.number = item.number;
  const answered = dedupeAnswers(members.flatMap((m) => m.answered));
  if (answered.length) li.classList.add("answered");
  const main = el("div", "c-main");
  main.append(el("p", "c-text", item.text));

  const chips = el("div", "chips");
  for (const hit of item.categories) {
    const label = categoryLabel(hit.category);
    const chip = el("span", `chip cat-${hit.category}${hit.weak ? " weak" : ""}`,
      hit.weak ? t("category.weak", { label }) : label);
    chip.dataset.category = hit.category;
    chips.append(chip);
  }
  if (members.length > 1) chips.append(el("span", "chip group", t("comment.group", { n: members.length })));
  main.append(chips);

  // Why: each category's Finnish explanation and the comment's own words that matched
  // (the question section says once what a question is).
  const why = el("ul", "why");
  for (const hit of item.categories) {
    if (hit.category === "question" && section === "question") continue;
    const li2 = el("li", "");
    li2.append(el("strong", "", `${categoryLabel(hit.category)}: `), document.createTextNode(hit.explanation));
    const words = hit.category === "personal_data" ? [] : hit.matched.filter((w) => w && w !== "?");
    if (words.length) li2.append(el("span", "muted", ` (${t("comment.matched", { words: words.map((w) => `”${w}”`).join(", ") })})`));
    why.append(li2);
  }
  if (why.children.length) main.append(why);

  if (members.length > 1) {
    const more = el("details", "group-more");
    more.append(el("summary", "", t("comment.group_more", { n: members.length - 1 })));
    const ul = el("ul", "");
    for (const m of members.slice(1)) ul.append(el("li", "", m.text));
    more.append(ul);
    main.append(more);
  }
  for (const a of answered) {
    main.append(el("p", "answered-mark", t("comment.answered", { date: formatDate(a.date), worker: a.worker, video: a.output })));
  }

  const actions = el("div", "c-actions");
  if (section === "question" || section === "other") {
    // Questions are what videos answer: their button is the bright one.
    const primary = section === "question" && !answered.length;
    const b = el("button", primary ? "primary" : "", answered.length ? t("comment.answer_again") : t("comment.answer"));
    b.type = "button";
    b.dataset.act = "answer";
    actions.append(b);
  }
  li.append(main, actions);
  return li;
}

function dedupeAnswers(entries) {
  const seen = new Map();
  for (const e of entries) seen.set(`${e.date}|${e.worker}|${e.output}`, e);
  return [...seen.values()].sort((a, b) => (a.date < b.date ? 1 : -1));
}

function hateSection(data, items) {
  const n = data.inbox.hidden;
  const box = sectionBox("hate", n);
  const categories = Object.entries(data.hate_categories).map(([c, k]) => `${categoryLabel(c)} ${k}`).join(", ");
  const bar = el("div", "hate-bar");
  bar.append(el("p", "muted", t(n === 1 ? "section.hate.hidden_one" : "section.hate.hidden", { n, categories })));
  const toggle = el("button", "", t(inboxView.showHate ? "section.hate.hide" : "section.hate.show", { n }));
  toggle.type = "button";
  toggle.id = "hate-toggle";
  toggle.setAttribute("aria-expanded", String(inboxView.showHate));
  toggle.addEventListener("click", () => { inboxView.showHate = !inboxView.showHate; loadComments(); });
  bar.append(toggle);
  box.append(bar);
  if (inboxView.showHate && items.length) {
    const list = el("ol", "comment-list");
    for (const item of items) list.append(commentRow("hate", item, [item]));
    box.append(list);
  }
  return box;
}

// "Vastaa": a new reply job with that comment (its card masks personal data as usual).
$("#inbox").addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-act=answer]");
  if (!button || !inboxView.data) return;
  const number = Number(button.closest("li.comment").dataset.number);
  button.disabled = true;
  try {
    const job = await api("POST", "/api/comments/answer", { number, version: inboxView.data.version });
    location.hash = `#/job/${job.id}`;
  } catch (e) {
    button.disabled = false;
    showError($("#comments-error"), e);
    if (e instanceof ApiError && e.info.key === "comments_changed") loadComments();
    $("#comments-error").scrollIntoView({ block: "center" });
  }
});
