"""好差评 rules shared by the citizen screen, the counter core and the server.

- Which levels are bad enough to ask for reasons and open a follow-up (整改).
- The reasons a citizen can pick (marked with ``N_``; the stored value is the Chinese
  source text, so a rating reads the same whatever language the citizen chose).
- A remark is kept on one line and any phone or ID number typed into it is starred out:
  ratings carry no citizen identity, also in exports.
- The burst rule: ratings given within a few seconds of the decision, identical,
  several in a row at one window, look like someone other than the citizen tapping
  the screen. They are kept (a rating is never dropped) but flagged for the supervisor.

Qt-free and database-free: callers hand in what they have stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hallclient.i18n import N_
from hallclient.wire import RatingLevel

BAD_LEVELS = frozenset({RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED})

# The reasons offered after 不满意/非常不满意, in the order shown. The stored reason is the
# msgid (Chinese), translated only for display.
REASONS: tuple[str, ...] = (
    N_("等候时间太长"),
    N_("工作人员态度不好"),
    N_("办理速度慢"),
    N_("材料要求多或重复"),
    N_("告知不清楚"),
    N_("跑了多次未办成"),
    N_("收费不合理"),
    N_("其他"),
)

MAX_COMMENT_CHARS = 300

# A rating given this soon after the decision counts as quick.
BURST_WITHIN = dt.timedelta(seconds=5)
# This many quick, identical ratings in a row at one window make a burst.
BURST_RUN = 3


def needs_follow_up(level: RatingLevel) -> bool:
    """不满意 and 非常不满意 ask for reasons and open a follow-up the hall must act on."""
    return level in BAD_LEVELS


def clean_reasons(reasons: Sequence[str]) -> list[str]:
    """The known reasons picked, each once, in the order offered; anything else is dropped."""
    picked = set(reasons)
    return [r for r in REASONS if r in picked]


# Seven or more digits in a row (spaces and dashes allowed between): a phone, an ID number.
_IDENTITY_DIGITS = re.compile(r"\d(?:[\s-]?\d){5,}(?:[\s-]?[\dXx])")


def clean_comment(text: str) -> str:
    """The remark on one line, bounded, and with numbers that could name the citizen starred out:
    a rating carries no citizen identity, also when the citizen types their phone number."""
    one_line = " ".join(text.split())[:MAX_COMMENT_CHARS]
    return _IDENTITY_DIGITS.sub(lambda m: "*" * len(m.group()), one_line)


@dataclass(frozen=True)
class RatedService:
    """What the burst rule needs of one rating: its level and two instants."""

    level: RatingLevel
    decided_at: dt.datetime
    rated_at: dt.datetime


def _instant(t: dt.datetime) -> dt.datetime:
    """Comparable instants: naive values are local wall-clock time."""
    return t.astimezone(dt.UTC) if t.tzinfo else t.astimezone().astimezone(dt.UTC)


def is_quick(r: RatedService) -> bool:
    """Given by a tap within BURST_WITHIN of the decision (未评价 is never a tap)."""
    if r.level is RatingLevel.NOT_RATED:
        return False
    delay = _instant(r.rated_at) - _instant(r.decided_at)
    return dt.timedelta(0) <= delay <= BURST_WITHIN


def is_burst(history: Sequence[RatedService]) -> bool:
    """Whether the last rating of ``history`` (one window's ratings, oldest first) ends a burst."""
    run = history[-BURST_RUN:]
    if len(run) < BURST_RUN:
        return False
    return all(is_quick(r) for r in run) and len({r.level for r in run}) == 1
