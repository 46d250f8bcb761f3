"""The live thread in a real browser: what one reader posts appears in another reader's open
page without a reload, bodies are text, and the widget embeds the thread with one tag."""

import contextlib
import gzip
import statistics
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Stack
from tests.browser.pages import PHONE, open_thread, post_comment
from threadlog.demo_thread import ARTICLE_ID

POSTS = 20


@contextlib.contextmanager
def news_site(page: bytes) -> Iterator[str]:
    """Another site (another origin) serving `page`; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/article"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_reply_appears_in_a_second_open_page(
    browser: Browser, stack: Stack, screenshots: Path
) -> None:
    """A reply made with the keyboard shows, nested under its parent, in a page opened before."""
    writer = await open_thread(browser, stack.web_url, ARTICLE_ID)
    reader = await open_thread(browser, stack.web_url, ARTICLE_ID)
    await reader.evaluate("window.notReloaded = true")
    await writer.get_by_label("Your name").fill("Mira")
    await writer.get_by_role("button", name="Reply to Searchin4Truth").focus()
    await writer.keyboard.press("Enter")
    await expect(writer.get_by_label("Your reply to Searchin4Truth")).to_be_focused()
    await writer.keyboard.type("Sources? Which politicians took what land?")
    await writer.get_by_role("button", name="Post reply").click()

    reply = reader.locator("#comment-c1 > .replies > .comment")
    await expect(reply).to_contain_text("Sources? Which politicians took what land?")
    await expect(reply.locator(".author")).to_have_text("Mira")
    assert await reader.evaluate("window.notReloaded") is True
    await reader.screenshot(path=screenshots / "thread.png", full_page=True)


async def test_the_thread_fits_a_phone(browser: Browser, stack: Stack, screenshots: Path) -> None:
    """At 390 px nothing scrolls sideways and every action is still a button."""
    phone = await open_thread(browser, stack.web_url, ARTICLE_ID, viewport=PHONE)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await expect(phone.get_by_role("button", name="Flag comment by Peter")).to_be_visible()
    await phone.screenshot(path=screenshots / "thread-phone.png")


async def test_post_to_second_page_latency(
    browser: Browser, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each of 20 posts shows in a second open page; p50 from submit to shown stays under 1 s."""
    article_id, _ = await stack.article("First.")
    writer = await open_thread(browser, stack.web_url, article_id)
    reader = await open_thread(browser, stack.web_url, article_id)
    await reader.evaluate(
        """() => {
        window.seen = {};
        new MutationObserver(() => {
          for (const body of document.querySelectorAll("#comments .body")) {
            if (!(body.textContent in window.seen)) window.seen[body.textContent] = Date.now();
          }
        }).observe(document.getElementById("comments"), {childList: true, subtree: true});
        }"""
    )
    await writer.get_by_label("Your name").fill("Timer")
    latencies = []
    for number in range(POSTS):
        body = f"probe {number}"
        await writer.get_by_label("Your comment").fill(body)
        submitted = await writer.evaluate(
            "() => { const t = Date.now();"
            " document.getElementById('compose').requestSubmit(); return t; }"
        )
        await reader.wait_for_function("body => body in window.seen", arg=body)
        latencies.append(await reader.evaluate("body => window.seen[body]", body) - submitted)
    await expect(reader.locator("#comments > .comment")).to_have_count(POSTS + 1)
    cuts = statistics.quantiles(latencies, n=10)
    p50, p90 = statistics.median(latencies), cuts[8]
    with capsys.disabled():
        print(
            f"\npost -> second page over {POSTS} posts: p50 {p50:.0f} ms, p90 {p90:.0f} ms,"
            f" max {max(latencies):.0f} ms"
        )
    assert p50 < 1000


async def test_a_script_laden_body_is_shown_as_text(browser: Browser, stack: Stack) -> None:
    """Markup in a body is shown as the characters typed, and nothing in it runs or loads."""
    article_id, _ = await stack.article("First.")
    writer = await open_thread(browser, stack.web_url, article_id)
    reader = await open_thread(browser, stack.web_url, article_id)
    body = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> <b>bold</b>'
    await post_comment(writer, body, name="<i>Mallory</i>")

    for page in (reader, writer):
        shown = page.locator("#comments > .comment").last
        await expect(shown.locator(".body")).to_have_text(body)
        await expect(shown.locator(".author")).to_have_text("<i>Mallory</i>")
        assert await shown.locator("script, img, b, i").count() == 0
        assert await page.evaluate("window.pwned") is None


async def test_the_widget_embeds_the_thread_with_one_tag(
    browser: Browser, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    """One script tag on another site's page shows the live thread, sized to its content."""
    context = await browser.new_context()
    page = await context.new_page()
    tag = f'<script src="{stack.web_url}/embed.js" data-article-id="{ARTICLE_ID}"></script>'
    html = f"<h1>An article</h1><p>Its text.</p>{tag}<footer>Site footer</footer>".encode()
    with news_site(html) as host_page:
        await page.goto(host_page)
    thread = page.frame_locator("iframe[title=Comments]")
    await expect(thread.locator("#comment-c1 > article .body")).to_contain_text("President Trump")
    # The frame grows to the thread's height (it starts at 240 px), so the page scrolls, not it.
    await page.wait_for_function(
        "() => document.querySelector('iframe').getBoundingClientRect().height > 800"
    )

    async with httpx.AsyncClient() as client:
        script = (await client.get(f"{stack.web_url}/embed.js")).content
    with capsys.disabled():
        print(f"\nembed.js: {len(script)} bytes, {len(gzip.compress(script, 9))} gzipped")
    assert len(gzip.compress(script, 9)) < 1024
