"""The moderation policy the worker applies: edit window, pre-moderation, automatic holds."""

import re
from dataclasses import dataclass, field
from datetime import timedelta

# A link is anything a reader could follow: a scheme URL or a bare www. host.
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+")


@dataclass(frozen=True)
class Policy:
    """Rules that are configuration, not events. Changing them changes how a replay decides, so
    they belong to the projection's configuration and a change calls for a rebuild."""

    edit_window: timedelta = timedelta(minutes=15)
    premoderate_all: bool = False
    banned_patterns: tuple[str, ...] = ()
    max_links: int = 2
    flag_threshold: int = 3
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(p, re.IGNORECASE) for p in self.banned_patterns)
        object.__setattr__(self, "_compiled", compiled)

    def content_holds(self, body: str) -> list[str]:
        """Why this text must wait for a moderator, if it must: one reason per rule it trips."""
        reasons = [f"banned_pattern:{p.pattern}" for p in self._compiled if p.search(body)]
        links = len(_LINK.findall(body))
        if links > self.max_links:
            reasons.append(f"links:{links}>{self.max_links}")
        return reasons
