"""The timelines projection's Postgres shell: writes what `timelines.plan_timelines` decided."""

from projections.sql_rows import Conn, insert_rows
from projections.timelines import TimelineChanges


async def write_timelines(conn: Conn, changes: TimelineChanges) -> None:
    """Apply one batch's timeline changes inside the caller's transaction."""
    await insert_rows(conn, "timeline_items", changes.items)
    await insert_rows(
        conn,
        "timeline_articles",
        changes.titles,
        "on conflict (article_id) do update set title = excluded.title",
    )
