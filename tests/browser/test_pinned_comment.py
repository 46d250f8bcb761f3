"""Pinning in a real browser: the console's button pins a comment, and the thread page shows it
first, marked."""

from playwright.async_api import Browser, expect

from tests.browser.conftest import Stack
from tests.browser.pages import open_console, open_thread


async def test_the_console_pins_a_comment_and_the_thread_shows_it_first(
    browser: Browser, stack: Stack
) -> None:
    """The later of two comments, pinned from the console, leads the oldest-first thread with a
    `pinned` mark; unpinned, it goes back to its place."""
    article_id, (first, second) = await stack.article("First in time.", "Pinned answer.")
    console = await open_console(browser, stack.web_url, stack.moderator_key)
    await console.locator("#pin-article").fill(article_id)
    await console.locator("#pin-comment").fill(second)
    await console.get_by_role("button", name="Pin", exact=True).click()
    await expect(console.locator("#status")).to_contain_text("Pin: done")

    page = await open_thread(browser, stack.web_url, article_id)
    comments = page.locator("#comments > .comment")
    await expect(comments.first).to_have_id(f"comment-{second}", timeout=10_000)
    await expect(comments.first.locator(".pinned-mark")).to_have_text("pinned")
    await expect(page.locator(f"#comment-{first} .pinned-mark")).to_have_count(0)

    await console.get_by_role("button", name="Unpin", exact=True).click()
    await expect(console.locator("#status")).to_contain_text("Unpin: done")
    await page.reload()
    await expect(comments.first).to_have_id(f"comment-{first}", timeout=10_000)
