// One comment as the thread shows it: author, time, marks, body (as text), score and actions.
import { el, when } from "./dom.js";

const FLAG_REASONS = [
  ["spam", "Spam"],
  ["abuse", "Abuse"],
  ["hate", "Hate"],
  ["off_topic", "Off topic"],
  ["other", "Other"],
];

/** The comment's list item: its card, then the list of its replies and a "more" button. */
export function commentItem(comment, { myVote }) {
  const item = el("li", { class: "comment", id: `comment-${comment.comment_id}` });
  item.dataset.commentId = comment.comment_id;
  item.append(el("article", { "aria-labelledby": `by-${comment.comment_id}` }));
  item.append(el("ol", { class: "replies", "aria-label": "Replies" }));
  fillComment(item, comment, { myVote });
  return item;
}

/** Renders `comment` into its existing list item (a live change replaces the card). */
export function fillComment(item, comment, { myVote }) {
  const id = comment.comment_id;
  const deleted = comment.status === "deleted";
  item.dataset.postedAt = comment.posted_at;
  item.dataset.score = String(comment.score);
  item.dataset.featured = comment.featured ? "1" : "";
  item.dataset.pinned = comment.pinned ? "1" : "";
  item.classList.toggle("tombstone", deleted);
  item.classList.toggle("featured", comment.featured);
  item.classList.toggle("pinned", comment.pinned);
  const name = deleted ? "[deleted]" : comment.author_name || comment.author_id;
  const head = el(
    "header",
    { class: "comment-head" },
    el("span", { class: "author", id: `by-${id}`, tabindex: -1, text: name }),
    " ",
    el("time", { datetime: comment.posted_at, text: when(comment.posted_at) }),
    comment.edited_at && !deleted
      ? el("span", {
          class: "mark edited",
          title: `edited ${when(comment.edited_at)}`,
          text: "edited",
        })
      : null,
    comment.featured ? el("span", { class: "mark featured-mark", text: "featured" }) : null,
    comment.pinned
      ? el("span", { class: "mark pinned-mark", title: "pinned by a moderator", text: "pinned" })
      : null,
  );
  const body = deleted
    ? el("p", { class: "body deleted-body", text: "This comment was deleted." })
    : el("p", { class: "body", text: comment.body });
  const actions = deleted ? null : commentActions(comment, name, myVote);
  const card = item.querySelector(":scope > article");
  // A live change re-renders the card: keep the reader's focus on the same button.
  const focused = card.contains(document.activeElement) && document.activeElement.dataset;
  card.replaceChildren(head, body, actions || "");
  if (focused?.action) {
    const vote = focused.vote ? `[data-vote="${focused.vote}"]` : "";
    card.querySelector(`[data-action="${focused.action}"]${vote}`)?.focus();
  }
}

function commentActions(comment, name, myVote) {
  const vote = (direction, label, symbol) =>
    el("button", {
      type: "button",
      class: "vote",
      "data-action": "vote",
      "data-vote": direction,
      "aria-pressed": String(myVote === direction),
      "aria-label": `${label} comment by ${name}`,
      text: symbol,
    });
  const score = comment.score;
  return el(
    "footer",
    { class: "actions" },
    vote("up", "Vote up", "▲"),
    el("span", {
      class: "score",
      "aria-label": `score ${score}`,
      text: String(score),
    }),
    vote("down", "Vote down", "▼"),
    el("button", {
      type: "button",
      "data-action": "reply",
      "aria-label": `Reply to ${name}`,
      text: "Reply",
    }),
    el("button", {
      type: "button",
      "data-action": "flag",
      "aria-label": `Flag comment by ${name}`,
      text: "Flag",
    }),
  );
}

/** The "show more replies" button under a comment, or null when none are hidden. */
export function moreRepliesButton(comment, hidden, cursor) {
  if (hidden <= 0) return null;
  const button = el("button", {
    type: "button",
    class: "more-replies",
    "data-action": "more-replies",
    text: hidden === 1 ? "Show 1 more reply" : `Show ${hidden} more replies`,
  });
  button.dataset.cursor = cursor || "";
  button.dataset.hidden = String(hidden);
  return button;
}

/** A form under a comment: a reply (textarea) or a flag (reason and note). */
export function actionForm(kind, comment_id, name) {
  const fieldId = `${kind}-${comment_id}`;
  const fields =
    kind === "reply"
      ? [
          el("label", { for: fieldId, text: `Your reply to ${name}` }),
          el("textarea", { id: fieldId, name: "body", rows: 3, required: true }),
        ]
      : [
          el("label", { for: fieldId, text: `Why should moderators look at ${name}'s comment?` }),
          el(
            "select",
            { id: fieldId, name: "reason" },
            ...FLAG_REASONS.map(([value, label]) => el("option", { value, text: label })),
          ),
          // "note-" + the id, not fieldId + "-note": comment "a"'s note and the flag field of
          // a comment named "a-note" would share one element id.
          el("label", { for: `note-${comment_id}`, text: "Note (optional)" }),
          el("input", { id: `note-${comment_id}`, name: "note", maxlength: 2000 }),
        ];
  return el(
    "form",
    { class: `inline-form ${kind}-form`, "data-kind": kind },
    ...fields,
    el(
      "div",
      { class: "form-buttons" },
      el("button", { type: "submit", text: kind === "reply" ? "Post reply" : "Send flag" }),
      el("button", { type: "button", "data-action": "cancel", text: "Cancel" }),
    ),
  );
}
