// What both pages share: building elements (text only, never markup) and calling the API.

/** An element with attributes, listeners (`onclick`) and children; strings become text nodes. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** A date as the reader's locale writes it. */
export function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Calls the API on this origin; an error answer throws with its code and message. */
export async function api(path, { method = "GET", body, key } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (key) headers.authorization = `Bearer ${key}`;
  const answer = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await answer.json().catch(() => null);
  if (!answer.ok) {
    const detail = data?.error?.details?.[0];
    const why = detail ? ` (${detail.field}: ${detail.message})` : "";
    const error = new Error(`${data?.error?.message || `HTTP ${answer.status}`}${why}`);
    error.status = answer.status;
    error.code = data?.error?.code;
    throw error;
  }
  return data;
}

/** Announces `text` in the page's polite live region (and shows it). */
export function say(text) {
  const status = document.getElementById("status");
  status.textContent = "";
  // A fresh text node, a moment later, makes screen readers announce a repeated message too.
  setTimeout(() => (status.textContent = text), 30);
}
