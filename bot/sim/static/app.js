// The demo's Slack client: draws the Block Kit the bot sent, and sends what a person does to
// the demo server, which signs it as Slack does and posts it to the bot. Plain browser
// JavaScript, no build step, nothing from the internet.
"use strict";

const EMOJI = {
  white_check_mark: "✅", x: "❌", arrows_counterclockwise: "🔄", white_circle: "⚪",
  octagonal_sign: "🛑", hourglass: "⌛", hourglass_flowing_sand: "⏳", zzz: "💤",
  electric_plug: "🔌", warning: "⚠️", wrench: "🔧", arrow_forward: "▶️", bell: "🔔",
  zipper_mouth_face: "🤐", rotating_light: "🚨", ticket: "🎫", eyes: "👀", tada: "🎉",
  large_green_circle: "🟢", red_circle: "🔴", large_yellow_circle: "🟡", mag: "🔍",
  information_source: "ℹ️", heavy_check_mark: "✔️", no_entry: "⛔", calendar: "📅",
  clock1: "🕐", gear: "⚙️", memo: "📝", link: "🔗", lock: "🔒", bust_in_silhouette: "👤",
};

let state = null;
let me = localStorage.getItem("eadm-demo-user") || "";
let version = -1;
let generation = 0; // a newer fetch (after switching person) outdates older ones
let view = location.hash === "#home" ? "home" : "channel";
let shownModal = null;

const $ = (id) => document.getElementById(id);

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function unescapeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function emoji(html) {
  return html.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
}

function name(id) {
  return (state && state.names[id]) || id;
}

// Slack's mrkdwn: links, mentions, code, bold, italic, strike, quotes, emoji.
function mrkdwn(text) {
  const kept = [];
  const keep = (html) => { kept.push(html); return `\u0000${kept.length - 1}\u0000`; };
  let s = String(text);
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${esc(unescapeSlack(code))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${esc(unescapeSlack(code))}</code>`));
  s = s.replace(/<([^<>]+)>/g, (_, inner) => {
    const [target, label] = inner.split("|");
    if (target.startsWith("@")) return keep(`<span class="mention">@${esc(name(target.slice(1)))}</span>`);
    if (target.startsWith("#")) return keep(`<span class="mention">#${esc(label || target.slice(1))}</span>`);
    if (target.startsWith("!")) return keep(esc(label || "@" + target.slice(1).split("^")[0]));
    return keep(`<a href="${esc(target)}" target="_blank" rel="noopener">${esc(unescapeSlack(label || target))}</a>`);
  });
  s = esc(unescapeSlack(s));
  s = s.replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, "$1<b>$2</b>");
  s = s.replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, "$1<i>$2</i>");
  s = s.replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, "$1<s>$2</s>");
  s = s.replace(/^&gt; ?(.*)$/gm, "<blockquote>$1</blockquote>");
  s = emoji(s).replace(/\n/g, "<br>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => kept[Number(i)]);
}

function textObject(obj) {
  if (!obj) return "";
  if (obj.type === "mrkdwn") return `<span class="mrkdwn">${mrkdwn(obj.text)}</span>`;
  const plain = esc(obj.text);
  return obj.emoji === false ? plain : emoji(plain);
}

function raw(obj) {
  const el = document.createElement("pre");
  el.className = "raw-json";
  el.dataset.rawType = obj && obj.type;
  el.textContent = JSON.stringify(obj, null, 2);
  return el;
}

function html(tag, className, inner) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (inner !== undefined) el.innerHTML = inner;
  return el;
}

// -- elements (buttons, selects) -------------------------------------------------------------

function element(el, ctx, blockId) {
  if (el.type === "button") {
    const b = html("button", "btn" + (el.style ? " " + el.style : ""), textObject(el.text));
    b.type = "button";
    b.dataset.actionId = el.action_id || "";
    b.addEventListener("click", () => {
      if (el.url) window.open(el.url, "_blank", "noopener");
      const send = () => act(ctx, blockId, el.action_id, el.value || "", false, el.text.text);
      if (el.confirm) confirmThen(el.confirm, send); else send();
    });
    return b;
  }
  if (el.type === "static_select") {
    const select = html("select", "select");
    select.dataset.actionId = el.action_id || "";
    const placeholder = html("option", "", textObject(el.placeholder) || "Choose…");
    placeholder.value = ""; placeholder.disabled = true; placeholder.selected = true;
    select.appendChild(placeholder);
    const add = (parent, opt) => {
      const o = html("option", "", textObject(opt.text));
      o.value = opt.value;
      parent.appendChild(o);
    };
    (el.options || []).forEach((opt) => add(select, opt));
    (el.option_groups || []).forEach((group) => {
      const g = document.createElement("optgroup");
      g.label = group.label.text;
      group.options.forEach((opt) => add(g, opt));
      select.appendChild(g);
    });
    select.addEventListener("change", () => {
      const chosen = select.value;
      const send = () => act(ctx, blockId, el.action_id, chosen, true, "");
      if (el.confirm) confirmThen(el.confirm, send); else send();
    });
    return select;
  }
  if (el.type === "image") return html("span", "img-alt", esc(el.alt_text || "image"));
  if (el.type === "mrkdwn" || el.type === "plain_text") return html("span", "", textObject(el));
  return raw(el);
}

// -- blocks ---------------------------------------------------------------------------------

function block(b, ctx) {
  switch (b.type) {
    case "header":
      return html("div", "block header", textObject(b.text));
    case "section": {
      const el = html("div", "block section");
      const text = html("div", "text", b.text ? textObject(b.text) : "");
      if (b.fields) {
        const fields = html("div", "fields");
        b.fields.forEach((f) => fields.appendChild(html("div", "", textObject(f))));
        text.appendChild(fields);
      }
      el.appendChild(text);
      if (b.accessory) el.appendChild(element(b.accessory, ctx, b.block_id));
      return el;
    }
    case "context": {
      const el = html("div", "block context");
      (b.elements || []).forEach((e) => el.appendChild(element(e, ctx, b.block_id)));
      return el;
    }
    case "divider":
      return html("hr", "block divider");
    case "actions": {
      const el = html("div", "block actions");
      (b.elements || []).forEach((e) => el.appendChild(element(e, ctx, b.block_id)));
      return el;
    }
    case "image":
      return html("div", "block", `<span class="img-alt">${esc(b.alt_text || "image")}</span>`);
    case "input":
      return input(b);
    default:
      return raw(b);
  }
}

function blocks(list, ctx) {
  const frag = document.createDocumentFragment();
  (list || []).forEach((b) => frag.appendChild(block(b, ctx)));
  return frag;
}

function input(b) {
  const el = html("div", "block input");
  el.dataset.blockId = b.block_id;
  const label = html("label", "", textObject(b.label) + (b.optional ? " <i>(optional)</i>" : ""));
  el.appendChild(label);
  const e = b.element || {};
  if (e.type !== "plain_text_input") {
    el.appendChild(raw(e));
    return el;
  }
  const field = document.createElement(e.multiline ? "textarea" : "input");
  field.name = `${b.block_id}/${e.action_id}`;
  field.value = e.initial_value || "";
  if (e.placeholder) field.placeholder = e.placeholder.text;
  if (e.max_length) field.maxLength = e.max_length;
  label.htmlFor = field.id = "input-" + b.block_id;
  el.appendChild(field);
  if (b.hint) el.appendChild(html("div", "hint", textObject(b.hint)));
  el.appendChild(html("div", "error"));
  return el;
}

// -- messages -------------------------------------------------------------------------------

function time(m) {
  const d = new Date((m.at || parseFloat(m.ts)) * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function message(m) {
  const ephemeral = m.subtype === "ephemeral";
  const el = html("div", "msg" + (ephemeral ? " ephemeral" : ""));
  el.dataset.ts = m.ts;
  const from = m.bot_id ? "eadm-bot" : name(m.user);
  el.appendChild(html("div", "avatar", esc(from[0].toUpperCase())));
  const body = html("div", "body");
  let meta = `<b>${esc(from)}</b>` + (m.bot_id ? '<span class="app">APP</span> ' : " ");
  meta += `<time>${time(m)}</time>`;
  if (m.edited) meta += ' <span class="edited">(edited)</span>';
  if (ephemeral) meta += ' <span class="only-you">👁 Only visible to you</span>';
  body.appendChild(html("div", "meta", meta));
  const ctx = { message_ts: m.ts, ephemeral };
  if (m.blocks && m.blocks.length) body.appendChild(blocks(m.blocks, ctx));
  else body.appendChild(html("div", "block mrkdwn", mrkdwn(m.text || "")));
  if (m.replies && m.replies.length) {
    const n = m.replies.length;
    body.appendChild(html("div", "thread-count", `${n} ${n === 1 ? "reply" : "replies"}`));
    const thread = html("div", "thread");
    m.replies.forEach((r) => thread.appendChild(message(r)));
    body.appendChild(thread);
  }
  el.appendChild(body);
  return el;
}

// Messages are drawn again only when they changed, so a select being used or an element
// being looked at stays where it is while the rest of the channel moves on.
const drawn = new Map();

function renderChannel() {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  if (!state.messages.length) {
    drawn.clear();
    box.replaceChildren(html("div", "empty",
      "Nothing yet. The bot posts here when a step of the cycle is in trouble; " +
      "type <code>/eadm status</code> below to ask it now."));
    return;
  }
  const next = state.messages.map((m) => {
    const key = JSON.stringify(m) + "|" + state.me.id;
    const old = drawn.get(m.ts);
    if (old && old.key === key) return old;
    return { key, el: message(m) };
  });
  drawn.clear();
  state.messages.forEach((m, i) => drawn.set(m.ts, next[i]));
  const els = next.map((d) => d.el);
  const same = els.length === box.children.length && els.every((el, i) => box.children[i] === el);
  if (!same) box.replaceChildren(...els);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

let drawnHome = null;

function renderHome() {
  const box = $("home");
  const key = JSON.stringify(state.home);
  if (key === drawnHome) return;
  drawnHome = key;
  box.replaceChildren();
  if (!state.home) {
    box.appendChild(html("div", "empty", "Opening the App Home…"));
    return;
  }
  box.dataset.viewId = state.home.id;
  box.appendChild(blocks(state.home.blocks, { view_id: state.home.id }));
}

function renderModal() {
  const modal = state.modal;
  const key = modal ? modal.id + ":" + (modal.hash || JSON.stringify(modal.blocks).length) : null;
  if (key === shownModal) return;
  shownModal = key;
  const overlay = $("overlay");
  if (!modal) {
    if (overlay.dataset.kind === "modal") { overlay.hidden = true; overlay.replaceChildren(); }
    return;
  }
  const dialog = html("form", "dialog modal");
  dialog.dataset.viewId = modal.id;
  dialog.appendChild(html("h2", "", textObject(modal.title)));
  const content = html("div", "content");
  content.appendChild(blocks(modal.blocks, { view_id: modal.id }));
  dialog.appendChild(content);
  const buttons = html("div", "buttons");
  const close = html("button", "btn", textObject(modal.close) || "Cancel");
  close.type = "button";
  close.addEventListener("click", () => post("/api/close", { view_id: modal.id }));
  buttons.appendChild(close);
  if (modal.submit) {
    const submit = html("button", "btn primary", textObject(modal.submit));
    submit.type = "submit";
    buttons.appendChild(submit);
  }
  dialog.appendChild(buttons);
  dialog.addEventListener("submit", (event) => { event.preventDefault(); submitModal(modal, dialog); });
  overlay.dataset.kind = "modal";
  overlay.replaceChildren(dialog);
  overlay.hidden = false;
  const first = dialog.querySelector("input, textarea");
  if (first) first.focus();
}

async function submitModal(modal, form) {
  const values = {};
  form.querySelectorAll("input[name], textarea[name]").forEach((field) => {
    const [blockId, actionId] = field.name.split("/");
    values[blockId] = { [actionId]: { type: "plain_text_input", value: field.value } };
  });
  const answer = await post("/api/submit", { view_id: modal.id, values });
  if (answer && answer.response_action === "errors") {
    Object.entries(answer.errors || {}).forEach(([blockId, text]) => {
      const box = form.querySelector(`[data-block-id="${blockId}"] .error`);
      if (box) box.textContent = text;
    });
  }
}

function confirmThen(confirm, send) {
  const overlay = $("overlay");
  const dialog = html("div", "dialog confirm");
  dialog.appendChild(html("h2", "", textObject(confirm.title)));
  dialog.appendChild(html("div", "content", textObject(confirm.text)));
  const buttons = html("div", "buttons");
  const deny = html("button", "btn", textObject(confirm.deny) || "Cancel");
  const yes = html("button", "btn " + (confirm.style === "danger" ? "danger" : "primary"),
    textObject(confirm.confirm) || "Yes");
  deny.type = yes.type = "button";
  const done = () => { overlay.hidden = true; overlay.replaceChildren(); overlay.dataset.kind = ""; };
  deny.addEventListener("click", done);
  yes.addEventListener("click", () => { done(); send(); });
  buttons.append(deny, yes);
  dialog.appendChild(buttons);
  overlay.dataset.kind = "confirm";
  overlay.replaceChildren(dialog);
  overlay.hidden = false;
}

// -- talking to the demo server -------------------------------------------------------------

function notice(text) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

async function post(path, data) {
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: me, ...data }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) notice(answer.error || `the demo server answered ${response.status}`);
    return answer;
  } catch (error) {
    notice("The demo is not running any more: start it again with eadm-bot demo --web.");
    return null;
  }
}

function act(ctx, blockId, actionId, value, selected, label) {
  return post("/api/action", {
    ...ctx, block_id: blockId || "", action_id: actionId, value, selected, label,
  });
}

function render() {
  document.title = `eadm-bot demo · #${state.channel.name}`;
  const who = $("whoami");
  if (who.options.length !== state.people.length) {
    who.replaceChildren(...state.people.map((p) => {
      const o = html("option", "", esc(p.name + (p.admin ? " (admin)" : " (not an admin)")));
      o.value = p.id;
      return o;
    }));
  }
  who.value = state.me.id;
  const picker = $("scenario");
  if (!picker.options.length) {
    picker.replaceChildren(...Object.entries(state.playing.scenarios).map(([key, about]) => {
      const o = html("option", "", esc(`${key} — ${about}`));
      o.value = key;
      return o;
    }));
    picker.value = state.playing.scenario;
    $("speed").value = state.playing.speed;
  }
  renderChannel();
  renderHome();
  renderModal();
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

async function follow() {
  const mine = ++generation;
  let after = -1;
  while (mine === generation) {
    try {
      const response = await fetch(`/api/state?after=${after}&user=${encodeURIComponent(me)}`);
      const next = await response.json();
      if (mine !== generation) return;
      state = next;
      me = state.me.id;
      after = version = state.version;
      render();
    } catch (error) {
      await sleep(1000);
    }
  }
}

function show(which) {
  view = which;
  $("channel-pane").hidden = which !== "channel";
  $("home-pane").hidden = which !== "home";
  $("nav-channel").classList.toggle("active", which === "channel");
  $("nav-home").classList.toggle("active", which === "home");
  if (which === "home") post("/api/home", {});
}

$("nav-channel").addEventListener("click", (e) => { e.preventDefault(); history.replaceState(null, "", "#channel"); show("channel"); });
$("nav-home").addEventListener("click", (e) => { e.preventDefault(); history.replaceState(null, "", "#home"); show("home"); });
$("whoami").addEventListener("change", (e) => {
  me = e.target.value;
  localStorage.setItem("eadm-demo-user", me);
  shownModal = null;
  follow();
  if (view === "home") post("/api/home", {});
});
$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const box = $("message");
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  const answer = await post("/api/command", { text });
  if (answer && answer.error) box.value = text;
});
$("restart").addEventListener("click", async () => {
  $("restart").disabled = true;
  await post("/api/scenario", { scenario: $("scenario").value, speed: Number($("speed").value) });
  $("restart").disabled = false;
});

show(view);
follow();
