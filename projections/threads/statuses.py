"""A comment's statuses, and which of them a public read shows: named here once.

The rules set them (`state`, `comment_rules`), SQL filters by them (`sql`), and the query service
compares with them; nothing else spells them.
"""

VISIBLE, PENDING, REJECTED, DELETED = "visible", "pending", "rejected", "deleted"
SHOWN = (VISIBLE, DELETED)
"""Statuses served in public threads: deleted comments stay as tombstones for their replies."""
