// The moderation console: the queue (held and flagged comments) and a moderator's events,
// through the public API with the moderator's own key, kept in sessionStorage only.
import { api, el, say, when } from "./dom.js";

const enc = encodeURIComponent;
const signIn = document.getElementById("sign-in");
const consoleBox = document.getElementById("console");
const REFRESH_MS = 3000;
// The console's own lists, found once: comment ids are anyone's input and never element ids,
// so a comment named "queue-flagged" (or "flagged") cannot stand in for a list.
const lists = {
  pending: document.getElementById("queue-pending"),
  flagged: document.getElementById("queue-flagged"),
};
let session = JSON.parse(sessionStorage.getItem("threadlog.moderator") || "null");
let timer = null;

const ACTIONS = [
  ["approve", "Approve"],
  ["reject", "Reject"],
  ["feature", "Feature"],
];

function queueItem(item) {
  const who = item.author_name || item.author_id;
  const flags = {};
  for (const reason of item.flag_reasons) flags[reason] = (flags[reason] || 0) + 1;
  const reasons = [
    ...item.hold_reasons,
    ...Object.entries(flags).map(([reason, n]) => `flag: ${reason}${n > 1 ? ` ×${n}` : ""}`),
  ];
  return el(
    "li",
    {
      class: "queue-item",
      "data-comment-id": item.comment_id,
      "data-article-id": item.article_id,
    },
    el(
      "article",
      { "aria-label": `Comment by ${who}` },
      el(
        "p",
        { class: "meta" },
        el("strong", { text: who }),
        ` (${item.author_id}) on `,
        el("a", { href: `/articles/${enc(item.article_id)}`, text: item.article_id }),
        " · ",
        el("time", { datetime: item.posted_at, text: when(item.posted_at) }),
        ` · ${item.flag_count} flag${item.flag_count === 1 ? "" : "s"}`,
      ),
      el("p", { class: "body", text: item.body }),
      el("ul", { class: "reasons", "aria-label": "Reasons" }, ...reasons.map((r) => el("li", { text: r }))),
      el(
        "div",
        { class: "actions" },
        ...ACTIONS.map(([action, label]) =>
          el("button", {
            type: "button",
            "aria-label": `${label} comment by ${who}`,
            text: label,
            onclick: () => moderate(item, action, label),
          }),
        ),
        el("button", {
          type: "button",
          "aria-label": `Ban author ${who}`,
          text: "Ban author",
          onclick: () => {
            document.getElementById("ban-author").value = item.author_id;
            document.getElementById("ban-reason").focus();
          },
        }),
      ),
    ),
  );
}

// The article and author ids of the queue, offered in the ban and close forms.
function suggest(id, values) {
  const options = [...new Set(values)].map((value) => el("option", { value }));
  document.getElementById(id).replaceChildren(...options);
}

async function loadQueue() {
  const seen = [];
  for (const status of ["pending", "flagged"]) {
    const page = await api(`/v1/moderation/queue?status=${status}&limit=100`, { key: session.key });
    seen.push(...page.items);
    const list = lists[status];
    const focused = list.contains(document.activeElement)
      ? document.activeElement.closest(".queue-item")?.dataset
      : null;
    list.replaceChildren(...page.items.map(queueItem));
    if (!page.items.length) list.append(el("li", { class: "hint", text: "Nothing here." }));
    if (focused) {
      const same = (li) =>
        li.dataset.commentId === focused.commentId && li.dataset.articleId === focused.articleId;
      [...list.children].find(same)?.querySelector("button")?.focus();
    }
    const count = `(${page.items.length}${page.next_cursor ? "+" : ""})`;
    document.getElementById(status === "pending" ? "held-count" : "flagged-count").textContent = count;
  }
  suggest("articles", seen.map((item) => item.article_id));
  suggest("authors", seen.map((item) => item.author_id));
}

async function send(type, data) {
  const answer = await api("/v1/events", {
    method: "POST",
    key: session.key,
    body: { type, source: "/moderation", data },
  });
  return answer.accepted[0].position;
}

async function moderate(item, action, label) {
  const data = { article_id: item.article_id, comment_id: item.comment_id, action };
  const position = await send("CommentModerated", { ...data, moderator_id: session.moderator });
  // Read the queue again once the worker applied the decision.
  await api(`/v1/moderation/queue?limit=1&after=${enc(position)}`, { key: session.key });
  await loadQueue();
  say(`${label}: done for ${item.author_name || item.author_id}'s comment.`);
}

async function submitTool(event) {
  event.preventDefault();
  const form = event.target;
  const type = event.submitter.dataset.type;
  const reason = form.elements.reason.value.trim() || undefined;
  const article_id = form.elements.article?.value.trim();
  const data = {
    ban: () => ({ author_id: form.elements.author.value.trim(), moderator_id: session.moderator, reason }),
    close: () => ({ article_id, by: session.moderator, reason }),
    pin: () => ({
      article_id,
      comment_id: form.elements.comment.value.trim(),
      moderator_id: session.moderator,
      note: reason,
    }),
  }[form.id]();
  await send(type, data);
  say(`${event.submitter.textContent}: done.`);
}

function tick() {
  if (document.visibilityState === "visible") loadQueue().catch((error) => say(error.message));
}

async function open(candidate) {
  session = candidate;
  try {
    await loadQueue();
  } catch (error) {
    session = null;
    sessionStorage.removeItem("threadlog.moderator");
    const why = error.status === 401 ? "the key was refused" : error.status === 403 ? "the key lacks the moderate scope" : error.message;
    say(`Could not open the queue: ${why}.`);
    return;
  }
  sessionStorage.setItem("threadlog.moderator", JSON.stringify(session));
  document.getElementById("who").textContent = session.moderator;
  signIn.hidden = true;
  consoleBox.hidden = false;
  clearInterval(timer);
  timer = setInterval(tick, REFRESH_MS);
  document.getElementById("held-title").focus?.();
}

const guard = (work) => work.catch((error) => say(`That did not work: ${error.message}`));

signIn.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = signIn.elements.key.value.trim();
  signIn.elements.key.value = "";
  guard(open({ key, moderator: signIn.elements.moderator.value.trim() }));
});
document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem("threadlog.moderator");
  clearInterval(timer);
  session = null;
  consoleBox.hidden = true;
  signIn.hidden = false;
  signIn.elements.key.focus();
});
document.getElementById("refresh").addEventListener("click", () => guard(loadQueue()));
for (const id of ["ban", "close", "pin"]) {
  document.getElementById(id).addEventListener("submit", (event) => guard(submitTool(event)));
}
if (session) guard(open(session));
