"""Comment ids are anyone's input: the console must not turn them into element ids, where a
comment named `flagged` or `pending` would take the place of the console's own lists."""

import uuid

from playwright.async_api import Browser, expect

from tests.browser.conftest import HELD_WORD, Stack
from tests.browser.pages import open_console


async def test_comments_named_like_the_consoles_lists_do_not_replace_them(
    browser: Browser, stack: Stack
) -> None:
    """Held comments with the ids `flagged` and `pending`, and a flagged one still shown: each
    list shows its own comments, each held comment its own body, and the queue refreshes
    without the lists moving into a comment."""
    article_id = f"art-{uuid.uuid4().hex[:10]}"

    def comment(comment_id: str, body: str) -> dict[str, object]:
        data = {"article_id": article_id, "comment_id": comment_id, "author_id": "writer"}
        return {"type": "CommentPosted", "data": data | {"author_name": "Writer", "body": body}}

    await stack.post(
        {"type": "ArticlePublished", "data": {"article_id": article_id, "title": article_id}},
        comment("flagged", f"Held one, {HELD_WORD}."),
        comment("pending", f"Held two, {HELD_WORD}."),
        comment("shown", "Shown and flagged."),
        {
            "type": "CommentFlagged",
            "data": {
                "article_id": article_id,
                "comment_id": "shown",
                "flagger_id": "grump",
                "reason": "other",
            },
        },
    )
    console = await open_console(browser, stack.web_url, stack.moderator_key)
    held_list = console.locator("section[aria-labelledby=held-title] > ol")
    flagged_list = console.locator("section[aria-labelledby=flagged-title] > ol")
    for _ in range(2):  # the first load, then a refresh
        await expect(held_list.locator(".body", has_text="Held one")).to_be_visible()
        await expect(held_list.locator(".body", has_text="Held two")).to_be_visible()
        await expect(flagged_list.locator(".body", has_text="Shown and flagged.")).to_be_visible()
        await expect(held_list.locator(".body", has_text="Shown and flagged.")).to_have_count(0)
        await expect(held_list.locator(".queue .queue")).to_have_count(0)
        await expect(console.locator("#queue-flagged, #queue-pending")).to_have_count(2)
        await console.get_by_role("button", name="Refresh").click()
