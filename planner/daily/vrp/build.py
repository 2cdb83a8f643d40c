"""The PyVRP model of a day (how the product's rules map onto PyVRP: see :mod:`.solve`).

:func:`build_model` turns the available crews and the tasks left after screening into a
:class:`pyvrp.ProblemData`, with the references needed to read the solution back.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyvrp

from geo import TravelMode
from planner.daily.record import StopKind
from planner.daily.vrp.model import DayProblem, Escort, Task, TimeWindow, Visit, Volunteer

UNLIMITED = 1 << 40
"""Capacity meaning "no limit" (PyVRP loads are 64-bit integers)."""

OWN_UNIT = 100
"""Load a skill-bound or volunteer-bound stop puts on each of its dimensions.

Any value gives the same feasible set; a larger unit makes PyVRP's penalty for a misplaced
stop larger from the start. On a 100-volunteer synthetic day, 100 instead of 1 cut total
travel by about 14 % at the same time budget (``benchmarks/bench_routes.py`` day generator).
"""


@dataclass(frozen=True)
class Crew:
    """A volunteer as they are available for the rest of the day.

    ``fair_s`` is the working day (s, from leaving to returning) beyond which each second
    costs ``balance`` (see :class:`planner.daily.vrp.SolveOptions`); ``None``: no such cost.
    """

    vol: Volunteer
    start_node: int
    early_s: int
    lunch_window: TimeWindow | None
    carried: tuple[Escort, ...]
    fair_s: int | None = None


@dataclass(frozen=True)
class ClientRef:
    """What a PyVRP client stands for: a task's stop, or a crew's own stop."""

    kind: StopKind
    task_id: str | None
    crew: int | None  # index of the owning crew for lunch / carried deliveries


@dataclass(frozen=True, eq=False)
class BuiltModel:
    """The PyVRP data and how to read its solution back."""

    data: pyvrp.ProblemData
    nodes: np.ndarray  # PyVRP location -> matrix node
    clients: list[ClientRef]
    shipments: list[str]
    type_crews: list[list[int]]  # vehicle type -> crew indices
    depot_nodes: list[int]
    initial: pyvrp.Solution | None  # own stops (lunch, carried groups) on their owners' routes


def volunteer_codes(n: int) -> tuple[int, list[tuple[int, ...]]]:
    """Smallest k >= 2 and n distinct floor(k/2)-subsets of range(k) (an antichain)."""
    if n == 0:
        return 0, []
    k = 2  # subsets must be non-empty, or volunteers without a code could take the stop
    while math.comb(k, k // 2) < n:
        k += 1
    return k, list(itertools.islice(itertools.combinations(range(k), k // 2), n))


def own_stops(crew: Crew) -> int:
    """Stops only this volunteer may make: their lunch and each group they already carry."""
    has_lunch = crew.lunch_window is not None and crew.vol.lunch is not None
    return int(has_lunch) + len(crew.carried)


def _int_matrix(m: np.ndarray, nodes: np.ndarray) -> Any:
    sub = np.asarray(m, dtype=float)[np.ix_(nodes, nodes)]
    return np.rint(sub).astype(np.int64)


@dataclass
class _Loads:
    """Load vectors: task units, seekers, one dimension per skill, the volunteer codes."""

    skill_dim: dict[str, int]
    code_of: dict[int, tuple[int, ...]]
    code0: int
    n_code: int

    @property
    def n_dims(self) -> int:
        return self.code0 + self.n_code

    def load(
        self, units: int = 0, seekers: int = 0, ind: str | None = None, crew: int | None = None
    ) -> list[int]:
        v = [0] * self.n_dims
        v[0], v[1] = units, seekers
        if ind in self.skill_dim:
            v[self.skill_dim[ind]] = OWN_UNIT
        if crew is not None:
            for k in self.code_of[crew]:
                v[self.code0 + k] = OWN_UNIT
        return v


def _loads(crews: Sequence[Crew], tasks: Sequence[Task]) -> _Loads:
    industries = sorted({t.industry for t in tasks if t.industry is not None})
    # A skill dimension is needed only if some volunteer does not know that industry.
    industries = [i for i in industries if not all(i in c.vol.industries for c in crews)]
    owned = [i for i, c in enumerate(crews) if c.lunch_window is not None or c.carried]
    n_code, subsets = volunteer_codes(len(owned))
    return _Loads(
        skill_dim={ind: 2 + k for k, ind in enumerate(industries)},
        code_of=dict(zip(owned, subsets, strict=True)),
        code0=2 + len(industries),
        n_code=n_code,
    )


@dataclass
class _Clients:
    """Clients, their references and groups, as they are added."""

    clients: list[pyvrp.Client] = field(default_factory=list)
    refs: list[ClientRef] = field(default_factory=list)
    groups: list[pyvrp.ClientGroup] = field(default_factory=list)

    def add_group(self, members: list[pyvrp.Client], ref: ClientRef, required: bool) -> None:
        """One client, or a mutually exclusive group of copies (one per window or place)."""
        if len(members) == 1:
            c = members[0]
            self.clients.append(
                pyvrp.Client(
                    location=c.location,
                    delivery=c.delivery,
                    service_duration=c.service_duration,
                    tw_early=c.tw_early,
                    tw_late=c.tw_late,
                    prize=0 if required else c.prize,
                    required=required,
                )
            )
            self.refs.append(ref)
            return
        group_idx = len(self.groups)
        first = len(self.clients)
        self.groups.append(
            pyvrp.ClientGroup(list(range(first, first + len(members))), required=required)
        )
        for c in members:
            self.clients.append(
                pyvrp.Client(
                    location=c.location,
                    delivery=c.delivery,
                    service_duration=c.service_duration,
                    tw_early=c.tw_early,
                    tw_late=c.tw_late,
                    prize=c.prize,
                    required=False,
                    group=group_idx,
                )
            )
            self.refs.append(ref)


def _locations(
    problem: DayProblem, crews: Sequence[Crew], tasks: Sequence[Task]
) -> tuple[list[int], np.ndarray]:
    """Depot nodes and every matrix node in use, depots first (PyVRP wants them first)."""
    depot_nodes = sorted({c.start_node for c in crews} | {c.vol.end_node for c in crews})
    other: set[int] = set()
    for t in tasks:
        other |= {t.node} if isinstance(t, Visit) else {t.pickup_node, t.delivery_node}
    for c in crews:
        if c.lunch_window is not None and c.vol.lunch is not None:
            other |= set(c.vol.lunch.places or (c.vol.start_node,))
        other |= {e.delivery_node for e in c.carried}
    nodes = np.array(depot_nodes + sorted(other - set(depot_nodes)), dtype=np.int64)
    return depot_nodes, nodes


def _visit_copies(t: Visit, loc: int, loads: _Loads, prize: int) -> list[pyvrp.Client]:
    return [
        pyvrp.Client(
            location=loc,
            delivery=loads.load(t.units, 0, t.industry),
            service_duration=t.service_s,
            tw_early=w.start_s,
            tw_late=w.end_s - t.service_s,
            prize=round(t.priority * prize),
        )
        for w in t.windows
    ]


def _shipment(t: Escort, loc_of: dict[int, int], loads: _Loads, prize: int) -> pyvrp.Shipment:
    dw = t.delivery_window
    return pyvrp.Shipment(
        pickup_location=loc_of[t.pickup_node],
        delivery_location=loc_of[t.delivery_node],
        pickup_tw_early=t.ready_s,
        pickup_tw_late=t.interview_s,
        pickup_service_duration=t.pickup_service_s,
        delivery_tw_early=dw.start_s,
        delivery_tw_late=dw.end_s,
        delivery_service_duration=t.delivery_service_s,
        amount=loads.load(0, t.seekers, t.industry),
        prize=round(t.priority * prize),
        required=t.required,
    )


def _own_stops(crews: Sequence[Crew], loc_of: dict[int, int], loads: _Loads, out: _Clients) -> None:
    """Each crew's lunch and the deliveries of groups they carry, bound to that crew."""
    for i, c in enumerate(crews):
        for e in c.carried:
            dw = e.delivery_window
            out.clients.append(
                pyvrp.Client(
                    location=loc_of[e.delivery_node],
                    delivery=loads.load(0, 0, None, i),
                    service_duration=e.delivery_service_s,
                    tw_early=dw.start_s,
                    tw_late=dw.end_s,
                )
            )
            out.refs.append(ClientRef(StopKind.DELIVERY, e.id, i))
        if c.lunch_window is not None and c.vol.lunch is not None:
            lunch = c.vol.lunch
            places = list(dict.fromkeys(lunch.places or (c.vol.start_node,)))
            copies = [
                pyvrp.Client(
                    location=loc_of[p],
                    delivery=loads.load(0, 0, None, i),
                    service_duration=lunch.duration_s,
                    tw_early=c.lunch_window.start_s,
                    tw_late=c.lunch_window.end_s - lunch.duration_s,
                )
                for p in places
            ]
            out.add_group(copies, ClientRef(StopKind.LUNCH, None, i), True)


def _vehicle_types(
    crews: Sequence[Crew],
    loads: _Loads,
    depot_nodes: list[int],
    profile_of: dict[TravelMode, int],
    balance: int,
) -> tuple[list[pyvrp.VehicleType], list[list[int]]]:
    """Vehicle types: identical volunteers (no own stops) share one type.

    A route leaves at the shift start (or now, when re-planning): a day that starts late
    is an idle morning, and with a fair working day (``Crew.fair_s``) each second the route
    lasts beyond it costs `balance` (PyVRP overtime, up to the shift end), so work is done
    early and spread over the team rather than stacked after lunch on a few volunteers.
    """
    skills = sorted(loads.skill_dim, key=loads.skill_dim.__getitem__)
    by_key: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, c in enumerate(crews):
        codes = loads.code_of.get(i, ())
        # Room on the code dimensions for every own stop (lunch and each carried group): one
        # OWN_UNIT only would make a volunteer carrying a group before lunch infeasible.
        own = OWN_UNIT * max(1, own_stops(c))
        cap = (
            [c.vol.max_tasks, c.vol.seats]
            + [UNLIMITED if ind in c.vol.industries else 0 for ind in skills]
            + [own if k in codes else 0 for k in range(loads.n_code)]
        )
        key = (
            c.start_node,
            c.vol.end_node,
            c.early_s,
            c.vol.shift.end_s,
            c.vol.mode,
            tuple(cap),
            i if i in loads.code_of else -1,
            c.fair_s,
        )
        by_key[key].append(i)
    vehicle_types = []
    type_crews = []
    for key, members in by_key.items():
        start, end, early, late, mode, cap_t, _, fair = key
        # Without a fair day: no nominal duration (PyVRP's default), no overtime.
        nominal, overtime, cost = int(np.iinfo(np.int64).max), 0, 0
        if fair is not None and balance > 0 and fair < late - early:
            nominal, overtime, cost = fair, late - early - fair, balance
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(members),
                capacity=list(cap_t),
                start_depot=depot_nodes.index(start),
                end_depot=depot_nodes.index(end),
                tw_early=early,
                tw_late=late,
                start_late=early,  # the day starts at the shift start (or now): idle is idle
                profile=profile_of[mode],
                unit_distance_cost=1,
                unit_duration_cost=0,
                shift_duration=nominal,
                max_overtime=overtime,
                unit_overtime_cost=cost,
            )
        )
        type_crews.append(members)
    return vehicle_types, type_crews


def _initial(
    data: pyvrp.ProblemData, out: _Clients, type_crews: list[list[int]], owned: set[int]
) -> pyvrp.Solution | None:
    """Each volunteer-bound stop on its owner's route (one copy of each group).

    PyVRP's random start scatters the volunteer-bound stops over all routes, and with a
    hundred volunteers the search rarely repairs that; starting with each such stop on its
    owner's route keeps the search in the feasible region from the first iteration.
    """
    if not owned:
        return None
    clients = out.clients
    own: dict[int, list[int]] = defaultdict(list)
    for idx, ref in enumerate(out.refs):
        if ref.crew is not None and idx not in own[ref.crew]:
            first_copy = clients[idx].group is None or not any(
                clients[j].group == clients[idx].group for j in own[ref.crew]
            )
            if first_copy:
                own[ref.crew].append(idx)
    type_of = {members[0]: k for k, members in enumerate(type_crews) if members[0] in owned}
    routes = [
        pyvrp.Route(data, sorted(visits, key=lambda j: clients[j].tw_late), type_of[crew])
        for crew, visits in own.items()
    ]
    return pyvrp.Solution(data, routes)


def build_model(
    problem: DayProblem,
    crews: Sequence[Crew],
    tasks: Sequence[Task],
    *,
    prize_per_priority_s: int,
    objective: str = "time",
    balance: int = 0,
) -> BuiltModel:
    """The PyVRP data of the day (see :mod:`planner.daily.vrp.solve` for the mapping)."""
    loads = _loads(crews, tasks)
    depot_nodes, nodes = _locations(problem, crews, tasks)
    loc_of = {int(n): i for i, n in enumerate(nodes)}
    coords = problem.matrices.coords
    locations = [
        pyvrp.Location(
            x=float(coords[n, 0]) if coords is not None else 0.0,
            y=float(coords[n, 1]) if coords is not None else 0.0,
        )
        for n in nodes
    ]
    depots = [pyvrp.Depot(location=loc_of[n]) for n in depot_nodes]

    out = _Clients()
    shipments: list[pyvrp.Shipment] = []
    shipment_ids: list[str] = []
    for t in tasks:
        if isinstance(t, Visit):
            copies = _visit_copies(t, loc_of[t.node], loads, prize_per_priority_s)
            out.add_group(copies, ClientRef(StopKind.VISIT, t.id, None), t.required)
        else:
            shipments.append(_shipment(t, loc_of, loads, prize_per_priority_s))
            shipment_ids.append(t.id)
    _own_stops(crews, loc_of, loads, out)

    # Profiles: one per mode in use.
    modes = sorted({c.vol.mode for c in crews})
    profile_of = {m: k for k, m in enumerate(modes)}
    mats = problem.matrices
    cost_src = mats.durations if objective == "time" else mats.distances
    vehicle_types, type_crews = _vehicle_types(crews, loads, depot_nodes, profile_of, balance)
    data = pyvrp.ProblemData(
        locations=locations,
        clients=out.clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[_int_matrix(cost_src[m], nodes) for m in modes],
        duration_matrices=[_int_matrix(mats.durations[m], nodes) for m in modes],
        groups=out.groups,
        shipments=shipments,
    )
    initial = _initial(data, out, type_crews, set(loads.code_of))
    return BuiltModel(data, nodes, out.refs, shipment_ids, type_crews, depot_nodes, initial)
