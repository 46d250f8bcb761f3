"""What the thread page shows of a thread as the query service serves it: pages and "load
more", hidden replies, sorts, scores, edited marks and tombstones, and edits and deletions
arriving live."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, expect

from tests.browser.conftest import Stack
from tests.browser.pages import open_thread


def _comment(article_id: str, comment_id: str, at: datetime, **data: Any) -> dict[str, Any]:
    return {
        "type": "CommentPosted",
        "time": at.isoformat(),
        "data": {
            "article_id": article_id,
            "comment_id": comment_id,
            "author_id": data.pop("author_id", "writer"),
            "body": data.pop("body", f"Comment {comment_id}."),
            **data,
        },
    }


async def _thread(stack: Stack) -> str:
    """Three comments a minute apart; the first with six replies, the second voted up twice."""
    article_id = f"shape-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC) - timedelta(minutes=5)
    events = [{"type": "ArticlePublished", "data": {"article_id": article_id, "title": "Shape"}}]
    events += [_comment(article_id, f"t{n}", start + timedelta(minutes=n)) for n in range(3)]
    events += [
        _comment(article_id, f"r{n}", start + timedelta(minutes=3, seconds=n), parent_id="t0")
        for n in range(6)
    ]
    events += [
        {
            "type": "CommentVoted",
            "data": {"article_id": article_id, "comment_id": "t1", "voter_id": voter, "vote": "up"},
        }
        for voter in ("v1", "v2")
    ]
    await stack.post(*events)
    return article_id


async def test_pages_hidden_replies_and_sorts(browser: Browser, stack: Stack) -> None:
    """Two comments a page, "load more" for the third; five replies inlined and a button for
    the sixth; newest and top orders; scores shown."""
    article_id = await _thread(stack)
    page = await open_thread(browser, stack.web_url, f"{article_id}?limit=2")
    top_level = page.locator("#comments > .comment")
    await expect(top_level).to_have_count(2)
    await page.get_by_role("button", name="Load more comments").click()
    await expect(top_level).to_have_count(3)
    await expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()

    replies = page.locator("#comment-t0 > .replies > .comment")
    await expect(replies).to_have_count(5)
    await page.get_by_role("button", name="Show 1 more reply").click()
    await expect(replies).to_have_count(6)
    await expect(replies.last).to_have_attribute("id", "comment-r5")

    await page.get_by_label("Sort by").select_option("newest")
    await expect(top_level.first).to_have_attribute("id", "comment-t2")
    await page.get_by_label("Sort by").select_option("top")
    await expect(top_level.first).to_have_attribute("id", "comment-t1")
    await expect(top_level.first.locator("> article .score")).to_have_text("2")


async def test_edits_and_deletions_arrive_live(browser: Browser, stack: Stack) -> None:
    """An edit replaces the body and marks it edited; a deletion leaves a tombstone whose
    replies stay in place."""
    article_id = await _thread(stack)
    page = await open_thread(browser, stack.web_url, article_id)
    first, second = page.locator("#comment-t0"), page.locator("#comment-t1")
    await expect(second.locator("> article .edited")).to_have_count(0)

    base = {"article_id": article_id}
    await stack.post(
        {
            "type": "CommentEdited",
            "data": {**base, "comment_id": "t1", "editor_id": "writer", "body": "Corrected."},
        },
        {"type": "CommentDeleted", "data": {**base, "comment_id": "t0", "deleted_by": "writer"}},
    )
    await expect(second.locator("> article .body")).to_have_text("Corrected.")
    await expect(second.locator("> article .edited")).to_be_visible()
    await expect(first.locator("> article .body")).to_have_text("This comment was deleted.")
    await expect(first.locator("> article .author")).to_have_text("[deleted]")
    await expect(first.locator("> article button")).to_have_count(0)
    await expect(first.locator("> .replies > .comment")).to_have_count(5)
