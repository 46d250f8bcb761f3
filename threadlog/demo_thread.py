"""The demo thread: a real 2019 news article and its six reader comments, in our own words.

The article (on Serbia threatening to send troops into Kosovo and hinting at Russian help) drew
comments that are partisan, ethnically charged and in places hateful: the reason a comment
backend needs flags and moderation. We carry the title, the date, the commenters and their times;
each comment's text is a one-line summary of its point, written by us. Readers flag the comments
that attack people for their religion or ethnicity; three flags hold one for a moderator.

Event ids are fixed, so posting the demo again changes nothing: the projections apply an id once.
"""

from datetime import UTC, datetime
from typing import Any

ARTICLE_ID = "2019-06-serbia-threatens-kosovo"


def _at(text: str) -> str:
    # The seed gives site-local times without a zone; we read them as UTC.
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).isoformat()


_COMMENTS = [
    (
        "Searchin4Truth",
        "2019-06-16 10:49",
        "Serbia should take its case to President Trump, who as a nationalist might side with it"
        " against the politicians the commenter blames for taking Serbian land.",
    ),
    (
        "Huffhorny",
        "2019-06-16 12:20",
        "Says America has no business backing Muslims in Europe because Serbia is Christian.",
    ),
    (
        "JJohannes",
        "2019-06-17 03:21",
        "Calls the article biased: rejects the words 'invade' and 'genocide', describes Kosovo as"
        " old Serbian land full of churches, and calls the 1990s fighting a civil war against an"
        " armed separatist group.",
    ),
    (
        "Momcilo",
        "2019-06-17 09:39",
        "Says the article could not be more wrong and calls it journalism at its worst.",
    ),
    (
        "Vincent",
        "2019-06-17 17:14",
        "Claims the 1999 intervention served oil and gas pipelines and says he would look away"
        " if Serbia invaded.",
    ),
    (
        "Peter",
        "2019-08-08 00:11",
        "Answers that every commenter here is Russian or Serbian, insists Kosovo is Albanian"
        " land, and ends with sweeping remarks about Slavic women and Muslims.",
    ),
]

_FLAGS = [
    ("c2", "reader-ana", "hate", "Attacks people for their religion."),
    ("c2", "reader-ben", "hate", None),
    ("c6", "reader-ana", "hate", "Generalizes about women of an ethnic group."),
    # The third reader's flag reaches the threshold: the comment leaves the thread for the queue.
    ("c2", "reader-cem", "abuse", None),
]
HELD_COMMENT = "c2"
LAST_EVENT_ID = f"demo-flag-{len(_FLAGS)}"


def demo_events() -> list[dict[str, Any]]:
    """The demo thread as the envelopes a producer would post to `POST /v1/events`."""
    events: list[dict[str, Any]] = [
        {
            "id": "demo-article",
            "type": "ArticlePublished",
            "source": "/demo/cms",
            "time": _at("2019-06-16 08:00"),
            "data": {
                "article_id": ARTICLE_ID,
                "title": "Serbia Threatens To Invade Kosovo, Could Ask Moscow 'For Assistance'",
            },
        }
    ]
    for number, (name, at, point) in enumerate(_COMMENTS, start=1):
        events.append(
            {
                "id": f"demo-comment-{number}",
                "type": "CommentPosted",
                "source": "/demo/widget",
                "time": _at(at),
                "data": {
                    "article_id": ARTICLE_ID,
                    "comment_id": f"c{number}",
                    "author_id": name.lower(),
                    "author_name": name,
                    "body": point,
                },
            }
        )
    for number, (comment_id, flagger, reason, note) in enumerate(_FLAGS, start=1):
        data = {
            "article_id": ARTICLE_ID,
            "comment_id": comment_id,
            "flagger_id": flagger,
            "reason": reason,
        }
        if note:
            data["note"] = note
        events.append(
            {
                "id": f"demo-flag-{number}",
                "type": "CommentFlagged",
                "source": "/demo/widget",
                "time": _at("2019-08-08 09:00"),
                "data": data,
            }
        )
    return events
