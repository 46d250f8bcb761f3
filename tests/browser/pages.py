"""Opening the pages as a reader or a moderator would, each in a browser context of its own."""

from playwright.async_api import Browser, Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 820, "height": 900}


async def open_thread(
    browser: Browser, web_url: str, article_id: str, viewport: dict[str, int] = DESKTOP
) -> Page:
    """A new reader (own storage, so own reader id) on the article's page, following it live."""
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(f"{web_url}/articles/{article_id}")
    await expect(page.locator("#thread.live")).to_be_attached(timeout=10_000)
    await expect(page.locator("#thread")).to_have_attribute("aria-busy", "false")
    return page


async def open_console(browser: Browser, web_url: str, key: str) -> Page:
    """The moderation console after signing in with `key` (the queue shows if it is accepted)."""
    context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(f"{web_url}/moderation")
    await page.get_by_label("API key (scope moderate)").fill(key)
    await page.get_by_role("button", name="Open the queue").click()
    return page


async def post_comment(page: Page, body: str, name: str | None = None) -> None:
    """Post `body` from the thread's form, giving the reader's name first when `name` is set."""
    if name is not None:
        await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Your comment").fill(body)
    await page.get_by_role("button", name="Post comment").click()


async def console_tool(console: Page, field: str, value: str, button: str) -> None:
    """Fill one of the console's author or article forms and press `button`; wait until done."""
    await console.get_by_label(field).fill(value)
    await console.get_by_role("button", name=button, exact=True).click()
    await expect(console.locator("#status")).to_contain_text(f"{button}: done")
