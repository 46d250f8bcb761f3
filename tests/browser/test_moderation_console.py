"""The moderation console in a real browser: flags hold a comment, it leaves the open thread and
enters the queue; a moderator approves it and it comes back, live."""

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.browser.conftest import HELD_WORD, Stack
from tests.browser.pages import console_tool, open_console, open_thread, post_comment

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
    held = console.locator(f'#queue-pending [data-comment-id="{comment_id}"]')
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


async def test_a_closed_article_and_a_banned_author_are_refused(
    browser: Browser, stack: Stack
) -> None:
    """Closed from the console, a thread refuses the next post and says so; a banned author's
    post on another thread is refused with the reason."""
    article_id, _ = await stack.article("First.")
    reader = await open_thread(browser, stack.web_url, article_id)
    console = await open_console(browser, stack.web_url, stack.moderator_key)
    await console_tool(console, "Article id", article_id, "Close")

    await post_comment(reader, "Too late?", name="Mira")
    await expect(reader.locator("#status")).to_contain_text("comments are closed")
    await expect(reader.locator("#closed")).to_be_visible()
    await expect(reader.get_by_label("Your comment")).to_be_hidden()

    other, _ = await stack.article("Second.")
    banned = await open_thread(browser, stack.web_url, other)
    await post_comment(banned, "First post.", name="Troll")
    await expect(banned.locator("#status")).to_contain_text("is published")
    troll = await banned.evaluate("JSON.parse(localStorage.getItem('threadlog.reader')).id")
    await console_tool(console, "Author id", troll, "Ban")
    await post_comment(banned, "Second post.")
    await expect(banned.locator("#status")).to_contain_text("you are banned")


async def test_a_held_post_is_announced_and_queued(browser: Browser, stack: Stack) -> None:
    """A post a rule holds is not shown; its author is told it waits for a moderator, and the
    console shows it with the rule; approved there, it appears in an open thread."""
    article_id, _ = await stack.article("First.")
    writer = await open_thread(browser, stack.web_url, article_id)
    watcher = await open_thread(browser, stack.web_url, article_id)
    await post_comment(writer, f"This has a {HELD_WORD} in it.", name="Mira")
    await expect(writer.locator("#status")).to_contain_text("waiting for a moderator")
    await expect(writer.locator("#comments > .comment")).to_have_count(1)

    console = await open_console(browser, stack.web_url, stack.moderator_key)
    held = console.locator("#queue-pending .queue-item", has_text=f"a {HELD_WORD} in it")
    await expect(held.locator(".reasons")).to_contain_text(f"banned_pattern:{HELD_WORD}")
    await held.get_by_role("button", name="Approve comment by Mira").click()
    shown = watcher.locator("#comments > .comment", has_text=f"a {HELD_WORD} in it")
    await expect(shown).to_be_visible()


async def test_a_featured_comment_is_marked_live(browser: Browser, stack: Stack) -> None:
    """A flagged comment still shown can be featured from the console; open threads mark it."""
    article_id, (comment_id,) = await stack.article("Worth reading.")
    flag = {"comment_id": comment_id, "flagger_id": "grump", "reason": "other"}
    await stack.post({"type": "CommentFlagged", "data": {"article_id": article_id, **flag}})
    watcher = await open_thread(browser, stack.web_url, article_id)
    shown = watcher.locator(f"#comment-{comment_id}")
    await expect(shown.locator(".featured-mark")).to_have_count(0)

    console = await open_console(browser, stack.web_url, stack.moderator_key)
    flagged = console.locator(f'#queue-flagged [data-comment-id="{comment_id}"]')
    await flagged.get_by_role("button", name="Feature comment by Writer").click()
    await expect(shown.locator(".featured-mark")).to_be_visible()
