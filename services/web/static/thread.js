// The live thread: reads GET /v1/articles/{id}/thread, follows its SSE stream, and sends the
// reader's posts, replies, votes and flags to the site's backend (here: /demo/actions).
import { actionForm, commentItem, fillComment, moreRepliesButton } from "./comment_view.js";
import { api, el, say, when } from "./dom.js";

const root = document.getElementById("thread");
const articleId = root.dataset.articleId;
const list = document.getElementById("comments");
const moreButton = document.getElementById("more");
const sortSelect = document.getElementById("sort");
const nameInput = document.getElementById("reader-name");
const enc = encodeURIComponent;
// A page of its own may ask for smaller pages (`?limit=20`); the API's default is 50.
const pageSize = Number(new URLSearchParams(location.search).get("limit")) || 50;
let sort = "oldest";
let nextCursor = null;
let commentCount = 0;

// The demo has no accounts: the browser makes up a reader id once and keeps it with the name.
const reader = JSON.parse(localStorage.getItem("threadlog.reader") || "null") || {
  id: `reader-${crypto.getRandomValues(new Uint32Array(2)).join("")}`,
  name: "",
};
const myVotes = JSON.parse(localStorage.getItem("threadlog.votes") || "{}");
const saveReader = () => localStorage.setItem("threadlog.reader", JSON.stringify(reader));
nameInput.value = reader.name;

const itemOf = (id) => document.getElementById(`comment-${id}`);
const nameOf = (item) => item.querySelector(".author").textContent;

function renderComment(comment) {
  const item = commentItem(comment, { myVote: myVotes[comment.comment_id] });
  const replies = item.querySelector(":scope > .replies");
  for (const reply of comment.replies || []) replies.append(renderComment(reply));
  const more = moreRepliesButton(comment, comment.more_replies, comment.replies_cursor);
  if (more) item.append(more);
  return item;
}

function showCount() {
  document.getElementById("count").textContent =
    commentCount === 1 ? "1 comment" : `${commentCount} comments`;
}

async function loadThread({ append = false } = {}) {
  const cursor = append && nextCursor ? `&cursor=${enc(nextCursor)}` : "";
  root.setAttribute("aria-busy", "true");
  try {
    const query = `sort=${sort}&limit=${pageSize}${cursor}`;
    const page = await api(`/v1/articles/${enc(articleId)}/thread?${query}`);
    const { article } = page;
    document.getElementById("article-title").textContent = article.title;
    document.title = `Comments: ${article.title}`;
    document.getElementById("article-meta").textContent = `published ${when(article.published_at)}`;
    document.getElementById("compose").hidden = article.closed;
    document.getElementById("closed").hidden = !article.closed;
    commentCount = article.comment_count;
    showCount();
    const items = page.comments.map(renderComment);
    if (append) list.append(...items);
    else list.replaceChildren(...items);
    nextCursor = page.next_cursor;
    moreButton.hidden = !nextCursor;
    if (append && items[0]) items[0].querySelector(".author").focus();
  } catch (error) {
    say(error.status === 404 ? "This article has no thread yet." : `Could not load: ${error.message}`);
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

// Where a comment that arrives live belongs among its loaded siblings, by the thread's order.
function before(a, b) {
  // Pinned comments lead the top-level list in every sort (a reply's pin only marks it).
  if (a.pinned !== b.pinned) return a.pinned;
  if (sort === "top" && a.featured !== b.featured) return a.featured;
  if (sort === "top" && a.score !== b.score) return a.score > b.score;
  return sort === "newest" ? a.postedAt > b.postedAt : a.postedAt < b.postedAt;
}

function place(item, parentId) {
  const parent = parentId ? itemOf(parentId) : null;
  if (parentId && !parent) return false; // its parent is not loaded: it comes with its parent
  const siblings = parent ? parent.querySelector(":scope > .replies") : list;
  const pinned = (node) => !parent && !!node.dataset.pinned;
  const key = { pinned: pinned(item), featured: !!item.dataset.featured, score: +item.dataset.score };
  key.postedAt = item.dataset.postedAt;
  const next = [...siblings.children].find((other) =>
    before(key, {
      pinned: pinned(other),
      featured: !!other.dataset.featured,
      score: +other.dataset.score,
      postedAt: other.dataset.postedAt,
    }),
  );
  // Past the last loaded sibling, while more are still to load, it comes with those.
  const more = parent ? parent.querySelector(":scope > .more-replies") : nextCursor;
  if (!next && more && !(sort === "newest" && !parent)) {
    if (parent) more.textContent = "Show more replies";
    return false;
  }
  siblings.insertBefore(item, next || null);
  return true;
}

function applyChange(type, data) {
  const existing = itemOf(data.comment_id);
  if (type === "removed") {
    if (existing) {
      existing.remove();
      commentCount -= 1;
    }
  } else if (existing) {
    fillComment(existing, data, { myVote: myVotes[data.comment_id] });
    if (data.status === "deleted") say(`A comment by ${data.author_name || "someone"} was deleted.`);
  } else {
    const item = renderComment({ ...data, replies: [], more_replies: data.reply_count });
    if (!place(item, data.parent_id)) return;
    commentCount += 1;
    item.classList.add("arrived");
    say(`New comment by ${nameOf(item)}.`);
  }
  showCount();
}

function follow() {
  const stream = new EventSource(`/v1/articles/${enc(articleId)}/stream`);
  for (const type of ["comment", "removed"]) {
    stream.addEventListener(type, (event) => applyChange(type, JSON.parse(event.data)));
  }
  stream.addEventListener("reset", () => loadThread());
  stream.addEventListener("open", () => root.classList.add("live"));
  stream.addEventListener("error", () => root.classList.remove("live"));
}

async function act(action) {
  return api("/demo/actions", {
    method: "POST",
    body: { article_id: articleId, reader_id: reader.id, ...action },
  });
}

const REFUSALS = {
  article_closed: "comments are closed on this article",
  author_banned: "you are banned from commenting",
  parent_deleted: "the comment you replied to was deleted",
  parent_rejected: "the comment you replied to was removed",
};

// After a post: once the worker decided it, tell the reader if it was refused or held.
async function confirmPosted(taken) {
  const outcome = await api(`/v1/events/${enc(taken.event_id)}?after=${enc(taken.position)}`);
  if (outcome.status === "rejected") {
    say(`Your comment was not published: ${REFUSALS[outcome.reason] || outcome.reason}.`);
    if (outcome.reason === "article_closed") await loadThread();
  }
  if (outcome.status !== "applied" || itemOf(taken.comment_id)) {
    if (outcome.status === "applied") say("Your comment is published.");
    return;
  }
  // Applied, and not pushed here yet: a read tells whether it is served or held.
  const path = `/v1/comments/${enc(taken.comment_id)}?article_id=${enc(articleId)}&replies=0`;
  try {
    const page = await api(path);
    if (!itemOf(taken.comment_id)) applyChange("comment", page.comment);
    say("Your comment is published.");
  } catch (error) {
    if (error.status !== 404) throw error;
    say("Your comment is waiting for a moderator.");
  }
}

async function post(body, parentId) {
  reader.name = nameInput.value.trim();
  if (!reader.name) {
    say("Please give your name first.");
    nameInput.focus();
    return false;
  }
  saveReader();
  const action = { action: "post", reader_name: reader.name, body };
  if (parentId) action.parent_id = parentId;
  const taken = await act(action);
  confirmPosted(taken).catch(() => {});
  return true;
}

async function vote(item, direction) {
  const id = item.dataset.commentId;
  const choice = myVotes[id] === direction ? "none" : direction;
  const taken = await act({ action: "vote", comment_id: id, vote: choice });
  myVotes[id] = choice;
  localStorage.setItem("threadlog.votes", JSON.stringify(myVotes));
  // Votes are not pushed live: read the comment back once the vote is applied.
  const page = await api(
    `/v1/comments/${enc(id)}?article_id=${enc(articleId)}&replies=0&after=${enc(taken.position)}`,
  );
  fillComment(item, page.comment, { myVote: choice });
  item.querySelector(`[data-vote="${direction}"]`).focus();
}

async function moreReplies(button) {
  const item = button.closest(".comment");
  const cursor = button.dataset.cursor ? `&cursor=${enc(button.dataset.cursor)}` : "";
  const page = await api(
    `/v1/comments/${enc(item.dataset.commentId)}/replies?article_id=${enc(articleId)}${cursor}`,
  );
  const replies = item.querySelector(":scope > .replies");
  const fresh = page.replies.filter((reply) => !itemOf(reply.comment_id)).map(renderComment);
  replies.append(...fresh);
  button.remove();
  const more = page.next_cursor && moreRepliesButton({}, 1, page.next_cursor);
  if (more) {
    more.textContent = "Show more replies";
    item.append(more);
  }
  if (fresh[0]) fresh[0].querySelector(".author").focus();
}

function openForm(item, kind) {
  item.querySelector(":scope > .inline-form")?.remove();
  const form = actionForm(kind, item.dataset.commentId, nameOf(item));
  item.querySelector(":scope > article").after(form);
  form.querySelector("textarea, select").focus();
}

async function submitInline(form) {
  const item = form.closest(".comment");
  const id = item.dataset.commentId;
  if (form.dataset.kind === "reply") {
    if (!(await post(form.elements.body.value, id))) return;
  } else {
    const note = form.elements.note.value.trim();
    const flag = { action: "flag", comment_id: id, reason: form.elements.reason.value };
    if (note) flag.note = note;
    await act(flag);
    say(`Thank you: moderators will look at ${nameOf(item)}'s comment.`);
  }
  form.remove();
  item.querySelector(`[data-action="${form.dataset.kind}"]`)?.focus();
}

const guard = (work) =>
  work.catch((error) => say(`That did not work: ${error.message}`));

list.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const item = button.closest(".comment");
  const action = button.dataset.action;
  if (action === "vote") guard(vote(item, button.dataset.vote));
  else if (action === "more-replies") guard(moreReplies(button));
  else if (action === "cancel") {
    const form = button.closest("form");
    form.remove();
    item.querySelector(`[data-action="${form.dataset.kind}"]`)?.focus();
  } else openForm(item, action);
});
list.addEventListener("submit", (event) => {
  event.preventDefault();
  guard(submitInline(event.target));
});
list.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && event.target.closest(".inline-form")) {
    event.target.closest(".inline-form").querySelector('[data-action="cancel"]').click();
  }
});
document.getElementById("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = document.getElementById("compose-body");
  guard(
    post(body.value).then((posted) => {
      if (posted) body.value = "";
    }),
  );
});
sortSelect.addEventListener("change", () => {
  sort = sortSelect.value;
  guard(loadThread());
});
moreButton.addEventListener("click", () => guard(loadThread({ append: true })));

// In the widget's frame: tell the embedding page how tall the thread is.
if (new URLSearchParams(location.search).has("embed") && parent !== window) {
  document.documentElement.classList.add("embedded");
  new ResizeObserver(() =>
    parent.postMessage({ threadlogHeight: document.documentElement.scrollHeight }, "*"),
  ).observe(document.body);
}

follow();
loadThread();
