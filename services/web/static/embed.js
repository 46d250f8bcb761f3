/* threadlog widget: <script src="https://HOST/embed.js" data-article-id="ID"></script>
   Puts the article's live thread in a frame from HOST right after this tag, and keeps the
   frame as tall as the thread. Everything else loads inside the frame. */
(() => {
  const tag = document.currentScript;
  const origin = new URL(tag.src).origin;
  const frame = document.createElement("iframe");
  frame.src = `${origin}/articles/${encodeURIComponent(tag.dataset.articleId)}?embed=1`;
  frame.title = tag.dataset.title || "Comments";
  frame.style.cssText = "display:block;width:100%;min-height:240px;border:0";
  tag.after(frame);
  addEventListener("message", (event) => {
    const height = event.data && event.data.threadlogHeight;
    if (event.origin === origin && event.source === frame.contentWindow && height > 0) {
      frame.style.height = `${Math.ceil(height)}px`;
    }
  });
})();
