"""The registration loop (事事有回音): every registration answered.

* :mod:`.registrations`: registrations (API one by one, seekers layer in bulk) with their
  responsible service point;
* :mod:`.model`: the capacitated recommendation model (exact min-cost flow, OR-Tools);
* :mod:`.matching`: the daily matching run (recommendations or a stated reason);
* :mod:`.cases`: interviews (escorts), outcomes, follow-up calls, the contact clock,
  :func:`~.cases.booked_escorts` for the day's routes;
* :mod:`.report`: the loop report; :mod:`.simulate`: the demo's simulated fortnight;
* :mod:`.followups`: the follow-up list as CSV.
"""

from planner.loop.cases import (
    CLOSING,
    OUTCOMES,
    BookedEscort,
    FollowUp,
    book_interview,
    booked_escorts,
    follow_ups,
    recommendations_of,
    record_contact,
    record_outcome,
)
from planner.loop.context import LoopCity, LoopParams
from planner.loop.matching import REASONS, MatchDay, match_day
from planner.loop.model import AssignmentModel, MatchResult
from planner.loop.registrations import NewRegistration, case_point, forms_from_seekers, register
from planner.loop.report import loop_summary

__all__ = [
    "CLOSING",
    "OUTCOMES",
    "REASONS",
    "AssignmentModel",
    "BookedEscort",
    "FollowUp",
    "LoopCity",
    "LoopParams",
    "MatchDay",
    "MatchResult",
    "NewRegistration",
    "book_interview",
    "booked_escorts",
    "case_point",
    "follow_ups",
    "forms_from_seekers",
    "loop_summary",
    "match_day",
    "recommendations_of",
    "record_contact",
    "record_outcome",
    "register",
]
