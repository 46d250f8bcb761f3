"""The moderation console in a real browser: flags hold a comment, it leaves the open thread and
enters the queue; a moderator approves it and it comes back, live."""

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.conftest import Stack
from tests.browser.pages import open_console, open_thread

THRESHOLD = 3


async def test_flagged_until_held_then_approved(
    browser: Browser, stack: Stack, screenshots: Path
) -> None:
    """Three readers flag a comment: it leaves every open page and enters the queue with its
    reasons; approved in the console, it shows again without a reload."""
    article_id, (comment_id,) = await stack.article("Everyone from that town is a thief.")
    watcher = await open_thread(browser, stack.web_url, article_id)
    shown = watcher.locator(f"#comment-{comment_id}")
    await expect(shown).to_be_visible()

    for reason in ("hate", "abuse", "hate")[:THRESHOLD]:
        flagger = await open_thread(browser, stack.web_url, article_id)
        await flagger.get_by_role("button", name="Flag comment by Writer").click()
        await flagger.get_by_label("Why should moderators look at Writer's comment?").select_option(
            reason
        )
        await flagger.get_by_role("button", name="Send flag").click()
        await expect(flagger.locator("#status")).to_contain_text("moderators will look")
        await flagger.context.close()
    await expect(shown).to_have_count(0, timeout=10_000)

    console = await open_console(browser, stack.web_url, stack.moderator_key)
    held = console.locator(f"#queue-pending #queue-{comment_id}")
    await expect(held).to_be_visible(timeout=10_000)
    await expect(held).to_contain_text("3 flags")
    await expect(held.locator(".reasons")).to_contain_text("flagged")
    await expect(held.locator(".reasons")).to_contain_text("flag: abuse")
    await console.screenshot(path=screenshots / "console.png", full_page=True)

    await held.get_by_role("button", name="Approve comment by Writer").click()
    await expect(held).to_have_count(0)
    await expect(shown).to_be_visible(timeout=10_000)
    await expect(shown.locator(".body")).to_have_text("Everyone from that town is a thief.")


async def test_the_console_keeps_the_key_for_the_session_only(
    browser: Browser, stack: Stack
) -> None:
    """A refused key opens nothing; an accepted one survives a reload of the tab, not the URL."""
    console = await open_console(browser, stack.web_url, "tl_not-a-key")
    await expect(console.locator("#status")).to_contain_text("the key was refused")
    await expect(console.locator("#sign-in")).to_be_visible()

    console = await open_console(browser, stack.web_url, stack.moderator_key)
    await expect(console.locator("#queue-pending .queue-item").first).to_be_visible()
    await console.reload()
    await expect(console.locator("#console")).to_be_visible()
    assert stack.moderator_key not in console.url
