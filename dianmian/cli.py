"""The ``dianmian`` command line: a thin face over ``geo`` and ``planner``.

Every command turns domain errors into a one-line ``error: ...`` message (plus the list of
problems for bad input files) and a non-zero exit status; tracebacks are for bugs only.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from geo import DianmianError

if TYPE_CHECKING:  # the CLI imports the pipeline lazily, so start-up stays fast
    from geo.engine import Engine
    from geo.scenario import Scenario
    from planner.city import City
    from planner.daily.vrp import SolveOptions
    from planner.points.plan import Plan
    from planner.points.written import WrittenPlan
    from planner.store import Store

app = typer.Typer(
    name="dianmian",
    help="点面 dianmian: plan job-service points, assign seekers and route volunteers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

EXIT_BAD_INPUT = 2
DEFAULT_OUT = Path("out")

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output root; results go to OUT/<scenario>/.")]
SkipOpt = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Drop invalid rows instead of failing; each one is written to invalid_rows.csv.",
    ),
]


class Reporter:
    """Progress for long steps (rich), silent with ``--quiet``."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet

    @contextmanager
    def step(self, text: str) -> Iterator[Callable[[str], None]]:
        """Show `text` with a spinner, the current sub-step and the elapsed time.

        Yields a callback that sets the sub-step (library code reports steps through it).
        """
        if self.quiet:
            yield lambda _msg: None
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (
            SpinnerColumn(),
            TextColumn("[bold]{task.description}[/]"),
            TextColumn("{task.fields[sub]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(text, total=None, sub="")
            yield lambda msg: bar.update(task, sub=msg)
            elapsed = bar.tasks[0].elapsed or 0.0
        err.print(f"[green]✓[/] {text} [dim]({elapsed:.1f} s)[/]")

    def print(self, *objects: Any) -> None:
        if not self.quiet:
            out.print(*objects)


def _setup_logging(*, quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.WARNING)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
        force=True,
    )


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except DianmianError as exc:
        _fail(exc)
    except FileNotFoundError as exc:
        _fail(exc)


@app.command()
def demo(
    out_dir: OutOpt = DEFAULT_OUT,
    folder: Annotated[
        Path | None,
        typer.Option(help="Where the demo city is built (default data/dongcao[-x<scale>])."),
    ] = None,
    rebuild: Annotated[bool, typer.Option(help="Rebuild the demo city even if present.")] = False,
    scale: Annotated[
        float,
        typer.Option(help="City size: 1 is Dongcao; 5 has about 5x the streets and people."),
    ] = 1.0,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Build the Dongcao demo city (if missing) and run the whole pipeline on it (offline)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    from geo.democity import build_demo_city, ensure_demo_city, folder_for_scale

    reporter = Reporter(quiet=quiet)
    folder = folder if folder is not None else folder_for_scale(scale)
    with _domain_errors():
        with reporter.step(f"Dongcao demo city (synthetic, scale {scale:g})") as progress:
            if rebuild:
                build_demo_city(folder, scale=scale, progress=progress)
            else:
                ensure_demo_city(folder, scale=scale, progress=progress)
        city, plan, engine = _run_plan(
            folder, out_dir, reporter, skip_invalid=False, with_maps=False
        )
        # The loop's fortnight books interviews for the days after it: the routes of the next
        # day escort the ones booked for it.
        written, last_day = _run_loop_demo(folder, out_dir, reporter)
        written += _run_routes(
            folder,
            out_dir,
            reporter,
            date=(last_day + dt.timedelta(days=1)).isoformat(),
            state=None,
            options=None,
            city=city,
            plan=plan,
            engine=engine,
        )
        with reporter.step("Maps"):
            written += _write_maps(city.scenario, out_dir / city.scenario.name)
        _print_written(reporter, written)


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder (with scenario.toml).")],
    skip_invalid: SkipOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check a scenario's layers and network; exit 2 listing every problem found."""
    _setup_logging(quiet=quiet, verbose=verbose)
    from planner.city import load_city

    reporter = Reporter(quiet=quiet)
    with _domain_errors():
        with reporter.step(f"Validating {scenario}") as progress:
            city = load_city(scenario, skip_invalid=skip_invalid, progress=progress)
        reporter.print(_summary_table(city.summary()))
        if city.skipped_report is not None:
            reporter.print(f"[yellow]invalid rows skipped; see {city.skipped_report}[/]")


@app.command()
def plan(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder (with scenario.toml).")],
    out_dir: OutOpt = DEFAULT_OUT,
    skip_invalid: SkipOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the pipeline on a scenario and write OUT/<scenario>/."""
    _setup_logging(quiet=quiet, verbose=verbose)
    with _domain_errors():
        _run_plan(scenario, out_dir, Reporter(quiet=quiet), skip_invalid=skip_invalid)


def _run_plan(
    scenario: Path,
    out_dir: Path,
    reporter: Reporter,
    *,
    skip_invalid: bool,
    with_maps: bool = True,
) -> tuple[City, Plan, Engine]:
    """Validate, plan and publish a scenario (and draw its maps); returns what the next
    steps of the demo reuse."""
    from geo.engine import Engine
    from planner.city import apply_demand_updates, load_city, write_city, write_datum_copies
    from planner.points.plan import make_plan, write_plan
    from planner.publish import publishing

    with reporter.step(f"Loading and validating {scenario}") as progress:
        city = load_city(scenario, skip_invalid=skip_invalid, out_root=out_dir, progress=progress)
    target = out_dir / city.scenario.name
    apply_demand_updates(city, _feedback(city.scenario, target)[0])
    # Written to a staging folder and published at once (a running server switches over).
    with publishing(target) as pub:
        with reporter.step(f"Writing {target}") as progress:
            written = write_city(city, pub.folder, progress=progress)
        reporter.print(_summary_table(city.summary()))
        engine = Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
        with reporter.step("Siting service points and assigning seekers") as progress:
            plan = make_plan(city, engine=engine, progress=progress)
            written += write_plan(plan, city, pub.folder)
            written += write_datum_copies(written, pub.folder, city.scenario.output.coordinates)
    written = [pub.final(p) for p in written]
    reporter.print(f"published plan version {pub.version}")
    reporter.print(_crowd_table(plan.summary))
    if with_maps:
        with reporter.step("Maps"):
            written += _write_maps(city.scenario, target)
    _print_written(reporter, written)
    return city, plan, engine


def _feedback(scenario: Scenario, target: Path) -> tuple[dict[str, int], Store | None]:
    """Demand reports and done tasks written through the HTTP API, if it has a database.

    Returns ``(latest demand per employer, store or None)``.
    """
    import os

    from planner.store import open_existing

    store = open_existing(target, os.environ.get("DATABASE_URL"))
    return ({}, None) if store is None else (store.latest_demand(), store)


@app.command()
def routes(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder (with scenario.toml).")],
    date: Annotated[
        str | None, typer.Option(help="Day to plan, YYYY-MM-DD (default: today).")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="Re-plan from a state file (done tasks, absent volunteers, now)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Solver seed (same input and seed: same plan).")] = 0,
    iterations: Annotated[
        int, typer.Option(help="Solver iterations (stops earlier after half as many without gain).")
    ] = 2000,
    seconds: Annotated[
        float, typer.Option(help="Wall-clock safety net of the solver (s); reported when hit.")
    ] = 120.0,
    replan: Annotated[
        bool,
        typer.Option(help="Site the service points again instead of using the written plan.gpkg."),
    ] = False,
    out_dir: OutOpt = DEFAULT_OUT,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan the volunteers' routes of one day and write OUT/<scenario>/routes/<date>/.

    The service points are those of the plan written by `dianmian plan` (sited anew only
    with --replan, or when no plan was written yet)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    reporter = Reporter(quiet=quiet)
    from planner.daily.vrp import SolveOptions

    options = SolveOptions(
        iterations=iterations, no_improvement=max(1, iterations // 2), seconds=seconds, seed=seed
    )
    with _domain_errors():
        _run_routes(
            scenario, out_dir, reporter, date=date, state=state, options=options, replan=replan
        )


def _run_routes(
    scenario: Path,
    out_dir: Path,
    reporter: Reporter,
    *,
    date: str | None,
    state: Path | None,
    options: SolveOptions | None,
    city: City | None = None,
    plan: Plan | WrittenPlan | None = None,
    engine: Engine | None = None,
    replan: bool = False,
) -> list[Path]:
    """Plan one day's routes; `city`, `plan` and `engine` are reused when given (the plan
    then already includes the demand reported through the API). Without a `plan`, the
    service points of the plan written in the output folder are used (the points a bureau
    has set up), unless `replan` or there is none: then the siting runs first."""
    import datetime as dt

    from geo.engine import Engine
    from planner.city import apply_demand_updates, load_city, write_datum_copies
    from planner.daily.export import write_exports_in_datum
    from planner.daily.run import parse_date, routes_for_day
    from planner.loop import booked_escorts
    from planner.points.plan import make_plan
    from planner.points.written import read_written_plan

    day = parse_date(date or dt.date.today().isoformat())
    if city is None:
        with reporter.step(f"Loading {scenario}") as progress:
            city = load_city(scenario, out_root=out_dir, progress=progress)
    target = out_dir / city.scenario.name
    demand, store = _feedback(city.scenario, target)
    done = [t.task_id for t in store.done_tasks(day)] if store is not None else []
    escorts = booked_escorts(store, day) if store is not None else []
    engine = engine or Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    if plan is None:
        apply_demand_updates(city, demand)
        plan = None if replan else read_written_plan(target)
        if plan is not None:
            where = f"version {plan.version}" if plan.version else str(plan.source)
            reporter.print(
                f"Service points of the written plan ({where}); `--replan` sites them again"
            )
    if plan is None:
        with reporter.step("Siting service points") as progress:
            plan = make_plan(city, engine=engine, progress=progress)
    with reporter.step(f"Routes for {day}") as progress:
        progress(f"{len(escorts)} escorted interview(s) booked, {len(done)} task(s) done")
        run = routes_for_day(
            city,
            plan,
            day,
            out_root=out_dir,
            state_file=state,
            options=options,
            engine=engine,
            done=done,
            escorts=escorts,
        )
    from maps.scenario import write_day_pages
    from maps.sheets import write_sheets

    labels = {t.id: t.label for t in run.day.tasks}
    run.paths.update(
        write_sheets(
            run.plan,
            run.paths["json"].parent,
            title=city.scenario.title,
            date=str(day),
            task_labels=labels,
        )
    )
    pages = write_day_pages(target, str(day), **_map_options(city.scenario))
    fig = run.plan.summary()
    reporter.print(
        f"Routes {day}: {fig['tasks_planned']} tasks for {fig['with_tasks']} of "
        f"{fig['volunteers']} volunteers (the others each with a reason), "
        f"{fig['tasks_left_out']} left out (each with a reason in plan.json); "
        f"utilisation {fig['utilisation']:.0%}; solver {run.timings.get('solver_s', 0):.1f} s"
    )
    written = [p for p in run.paths.values() if isinstance(p, Path)]
    datum = city.scenario.output.coordinates
    copies = write_datum_copies(written, target, datum)
    copies += write_exports_in_datum(run.plan, run.paths, target, datum)
    return written + copies + pages


def _write_maps(scenario: Scenario, target: Path, *, date: str | None = None) -> list[Path]:
    import os

    from maps.scenario import LoopOptions, write_scenario_maps
    from planner.loop import LoopParams

    loop = LoopOptions(
        database_url=os.environ.get("DATABASE_URL"),
        min_count=scenario.privacy.min_count,
        follow_up_days=LoopParams.from_toml(scenario.folder / "scenario.toml").follow_up_days,
        scenario=str(scenario.folder),
    )
    return write_scenario_maps(target, date=date, loop=loop, **_map_options(scenario))


def _map_options(scenario: Scenario) -> dict[str, Any]:
    tiles = scenario.map.tiles
    return {
        "title": scenario.title,
        "synthetic": scenario.synthetic,
        "tiles": None if tiles in ("none", "osm") else tiles,
        "attribution": scenario.map.attribution or None,
        "industries": scenario.industries,
        "coordinates": scenario.map.coordinates,
        "volunteer_homes": scenario.privacy.volunteer_homes,
    }


@app.command("maps")
def maps_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario folder (with scenario.toml).")],
    out_dir: OutOpt = DEFAULT_OUT,
    date: Annotated[
        str | None, typer.Option(help="Day of routes to draw (default: the newest).")
    ] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write OUT/<scenario>/maps/*.html from the planned scenario (run `plan` first)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    from geo.scenario import Scenario

    reporter = Reporter(quiet=quiet)
    with _domain_errors():
        scen = Scenario.load(scenario)
        with reporter.step("Maps"):
            written = _write_maps(scen, out_dir / scen.name, date=date)
    _print_written(reporter, written)


def _crowd_table(summary: dict[str, Any]) -> Any:
    from rich.table import Table

    before, after = summary["before"], summary["after"]
    table = Table(title="Crowd at the central talent market, before → after 市人才市场人流")
    table.add_column("figure")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_row(
        "visits/day at the market",
        f"{before['market_load']:,.0f}",
        f"{after['market_load']:,.0f}",
    )
    table.add_row(
        "market load / safe capacity",
        f"{before['market_load_vs_capacity']:.0%}",
        f"{after['market_load_vs_capacity']:.0%}",
    )
    table.add_row(
        "share of seekers sent to the market", "100%", _pct(after["seeker_share_still_at_market"])
    )
    table.add_row("open service points", "0", str(after["open_points"]))
    b, a = before["travel_time_all"], after["travel_time_all"]
    table.add_row("seekers' trip p50 / p95 (min)", _p(b), _p(a))
    for minutes in (15, 30, 45):
        key = f"within_{minutes}_min"
        table.add_row(f"seekers within {minutes} min", _pct(b[key]), _pct(a[key]))
    for mode, fig in after["travel_time_by_mode"].items():
        table.add_row(
            f"  {mode}: p50 / p95 (min)", _p(before["travel_time_by_mode"][mode]), _p(fig)
        )
    table.add_row("unassigned visits/day", "0", f"{after['unassigned_visits']:,.0f}")
    _queue_rows(table, before, after)
    return table


def _queue_rows(table: Any, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Staff and peak-hour waits (absent from summaries written before staffing existed)."""
    if "staff_total" not in after:
        return
    market = next((p for p in after["points"] if p["is_market"]), None)
    waits = [p["mean_wait_min"] for p in after["points"] if not p["is_market"]]
    table.add_row("staff (points + market)", str(before["staff_total"]), str(after["staff_total"]))
    table.add_row(
        "market peak-hour mean wait",
        _wait(before.get("market_mean_wait_min")),
        _wait(market["mean_wait_min"] if market else None),
    )
    worst = max(waits, key=lambda w: float("inf") if w is None else w, default=0.0)
    table.add_row("worst peak-hour mean wait at a point", "-", _wait(worst))


def _wait(minutes: float | None) -> str:
    return "unbounded queue" if minutes is None else f"{minutes:.1f} min"


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _p(fig: dict[str, float]) -> str:
    return f"{fig['p50_min']:.0f} / {fig['p95_min']:.0f}"


@app.command()
def serve(
    scenario: Annotated[Path, typer.Argument(help="Planned scenario folder.")],
    out_dir: OutOpt = DEFAULT_OUT,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    verbose: VerboseOpt = False,
) -> None:
    """Serve a planned scenario over HTTP (nearest service point, plan layers, routes).

    Writes need DIANMIAN_API_KEY; the database is DATABASE_URL (default SQLite in OUT).
    """
    _setup_logging(quiet=False, verbose=verbose)
    from api.serve import serve as run

    with _domain_errors():
        run(scenario, out_dir, host=host, port=port, workers=workers)


keys_app = typer.Typer(
    help="API keys with roles (admin, staff, volunteer), stored hashed in the scenario's "
    "database (DATABASE_URL, or OUT/<scenario>/dianmian.sqlite).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
ScenarioArg = Annotated[Path, typer.Argument(help="Scenario folder (with scenario.toml).")]


def _key_store(scenario: Path, out_dir: Path) -> tuple[Any, Path]:
    import os

    from geo.scenario import Scenario
    from planner.store import Store, store_url

    scen = Scenario.load(scenario)
    target = out_dir / scen.name
    target.mkdir(parents=True, exist_ok=True)
    return Store(store_url(target, os.environ.get("DATABASE_URL"))), target


def _known_ids(target: Path, file: str, layer: str) -> set[str] | None:
    """Ids of a published layer (None if not planned yet, so nothing can be checked)."""
    import pyogrio

    from planner.publish import version_folder

    path = version_folder(target)[0] / file
    if not path.is_file():
        return None
    frame = pyogrio.read_dataframe(path, layer=layer, columns=["id"], read_geometry=False)
    return {str(v) for v in frame["id"]}


@keys_app.command("create")
def keys_create(
    scenario: ScenarioArg,
    role: Annotated[str, typer.Option(help="admin, staff or volunteer.")],
    point: Annotated[str | None, typer.Option(help="Service point id of a staff key.")] = None,
    volunteer: Annotated[str | None, typer.Option(help="Volunteer id of a volunteer key.")] = None,
    label: Annotated[str | None, typer.Option(help="Who holds the key (a note).")] = None,
    out_dir: OutOpt = DEFAULT_OUT,
) -> None:
    """Create a key and print it once (only its SHA-256 is stored)."""
    from api.auth import Role, new_key
    from planner.store import add_key

    with _domain_errors():
        if role not in ("admin", "staff", "volunteer"):
            _fail(ValueError(f"`--role` {role!r} is unknown; allowed: admin, staff, volunteer"))
        try:
            token, record = new_key(
                Role(role), service_point=point, volunteer_id=volunteer, label=label
            )
        except ValueError as exc:
            _fail(exc)
        store, target = _key_store(scenario, out_dir)
        checks = (
            (point, "plan.gpkg", "service_points", "--point", "service point"),
            (volunteer, "city.gpkg", "volunteers", "--volunteer", "volunteer"),
        )
        for value, file, layer, option, what in checks:
            known = _known_ids(target, file, layer) if value else None
            if known is not None and value not in known:
                _fail(ValueError(f"`{option}` {value!r}: no such {what} in the published plan"))
        add_key(store, record)
        store.close()
    err.print(f"[green]created key {record.key_id}[/] ({role}); it is shown only this once:")
    out.print(token, highlight=False, soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(
    scenario: ScenarioArg,
    key_id: Annotated[str, typer.Argument(help="Key id (from `dianmian keys list`).")],
    out_dir: OutOpt = DEFAULT_OUT,
) -> None:
    """Revoke a key at once (the next request with it answers 403)."""
    from planner.store import revoke_key

    with _domain_errors():
        store, _target = _key_store(scenario, out_dir)
        done = revoke_key(store, key_id)
        store.close()
    if not done:
        _fail(ValueError(f"no active key with id {key_id!r}"))
    err.print(f"revoked key {key_id}")


@keys_app.command("list")
def keys_list(scenario: ScenarioArg, out_dir: OutOpt = DEFAULT_OUT) -> None:
    """List keys: id, role, point or volunteer, label, created, revoked (never secrets)."""
    from rich.table import Table

    from planner.store import list_keys

    with _domain_errors():
        store, _target = _key_store(scenario, out_dir)
        keys = list_keys(store)
        store.close()
    table = Table(title="API keys")
    for col in ("key id", "role", "point", "volunteer", "label", "created", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            k.key_id,
            k.role,
            k.service_point or "",
            k.volunteer_id or "",
            k.label or "",
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            "" if k.revoked_at is None else k.revoked_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


def _print_written(reporter: Reporter, written: list[Path]) -> None:
    """List written files; folders with many files (one page per volunteer) as a count."""
    by_folder: dict[Path, list[Path]] = {}
    for path in written:
        by_folder.setdefault(path.parent, []).append(path)
    for folder, paths in by_folder.items():
        if len(paths) > 6:
            reporter.print(f"  wrote {len(paths)} files in {folder}/")
        else:
            for path in paths:
                reporter.print(f"  wrote {path}")


def _summary_table(summary: dict[str, Any]) -> Any:
    from rich.console import Group
    from rich.table import Table

    counts = Table(title=summary.get("title", "summary"))
    counts.add_column("layer / network")
    counts.add_column("count", justify="right")
    for section in ("layers", "network"):
        for key, value in summary.get(section, {}).items():
            counts.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    industries = Table(title="Per industry 各产业")
    for col in ("code", "industry", "employers", "demand", "seekers"):
        industries.add_column(col, justify="left" if col in ("code", "industry") else "right")
    for code, row in summary.get("industries", {}).items():
        industries.add_row(
            code,
            row["label"],
            f"{row['employers']:,}",
            f"{row['demand']:,}",
            f"{row['seekers']:,}",
        )
    return Group(counts, industries)


# -- the registration loop (planner.loop) -------------------------------------------------

registrations_app = typer.Typer(help="Job seekers' registrations (the loop's cases).")
loop_app = typer.Typer(help="The registration loop: simulate days, print the loop report.")
app.add_typer(registrations_app, name="registrations")
app.add_typer(loop_app, name="loop")

DateOpt = Annotated[str | None, typer.Option("--date", help="Day, YYYY-MM-DD (default: today).")]


def _day(value: str | None) -> Any:
    import datetime as dt

    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(ValueError(f"`--date` {value!r} is not a YYYY-MM-DD date"))


def _loop_store(scenario: Path, out_dir: Path) -> tuple[Any, Any, Path]:
    """The scenario's loop context, store and plan folder (`dianmian plan` must have run)."""
    import os

    from geo.scenario import Scenario
    from planner.loop import LoopCity
    from planner.store import Store, store_url

    scen = Scenario.load(scenario)
    target = out_dir / scen.name
    city = LoopCity.from_folder(scenario, target)
    return city, Store(store_url(target, os.environ.get("DATABASE_URL"))), target


@registrations_app.command("import")
def registrations_import(
    scenario: Annotated[Path, typer.Argument(help="Planned scenario folder.")],
    since: Annotated[str | None, typer.Option(help="Only registered on/after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Only registered on/before YYYY-MM-DD.")] = None,
    out_dir: OutOpt = DEFAULT_OUT,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Register the seekers layer in bulk (idempotent on the seeker id)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    from planner.city import load_city
    from planner.loop import forms_from_seekers, register

    reporter = Reporter(quiet=quiet)
    with _domain_errors():
        city, store, _ = _loop_store(scenario, out_dir)
        with reporter.step(f"Loading {scenario}") as progress:
            seekers = load_city(scenario, out_root=out_dir, progress=progress).layer("seekers")
        lo = None if since is None else _day(since)
        hi = None if until is None else _day(until)
        forms = forms_from_seekers(seekers, since=lo, until=hi)
        with reporter.step(f"Registering {len(forms):,} seekers") as progress:
            ids = register(store, city, forms, progress=progress)
        reporter.print(
            f"{len(ids):,} registrations stored (already stored ones kept) in {store.url}"
        )


@app.command("match")
def match_command(
    scenario: Annotated[Path, typer.Argument(help="Planned scenario folder.")],
    date: DateOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Screen every open registration: recommend openings (or state why none)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    from planner.loop import REASONS, match_day

    reporter = Reporter(quiet=quiet)
    day = _day(date)
    with _domain_errors():
        city, store, _ = _loop_store(scenario, out_dir)
        with reporter.step(f"Matching {day}") as progress:
            run = match_day(store, city, day, progress=progress)
    reporter.print(
        f"Matching {day}: {run.screened:,} screened, {run.with_recommendations:,} with "
        f"{run.recommendations:,} recommendations"
    )
    if run.result is not None:
        r = run.result
        reporter.print(
            f"  objective {r.objective:,.0f} (bound {r.bound:,.0f}, gap {r.gap:.3%}); "
            f"{r.how}; {r.runtime_s:.1f} s"
        )
    for code, n in run.reasons.items():
        reporter.print(f"  {n:,} without recommendation: {REASONS.get(code, code)}")


@app.command("followups")
def followups_command(
    scenario: Annotated[Path, typer.Argument(help="Planned scenario folder.")],
    date: DateOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write the day's follow-up list per service point (printable HTML and CSV)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    reporter = Reporter(quiet=quiet)
    day = _day(date)
    with _domain_errors():
        city, store, target = _loop_store(scenario, out_dir)
        written = _write_followups(city, store, target, day)
    reporter.print(f"{written[0]:,} follow-up call(s) due on {day}")
    _print_written(reporter, written[1:])


def _write_followups(city: Any, store: Any, target: Path, day: Any) -> list[Any]:
    from maps.followups import write_follow_ups_html
    from planner.loop import follow_ups
    from planner.loop.followups import follow_up_rows, follow_ups_folder, write_follow_ups_csv

    days = city.params.follow_up_days
    items = follow_ups(store, day, days=days, city=city)
    folder = follow_ups_folder(target, day)
    csv_path = write_follow_ups_csv(items, folder / "followups.csv")
    html_path = write_follow_ups_html(
        follow_up_rows(items),
        folder / "followups.html",
        day=day,
        title=target.name,
        follow_up_days=days,
    )
    return [len(items), csv_path, html_path]


@loop_app.command("simulate")
def loop_simulate(
    scenario: Annotated[Path, typer.Argument(help="Planned scenario folder (synthetic).")],
    days: Annotated[int, typer.Option(help="Days to simulate.")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same fortnight).")] = 20261123,
    start: Annotated[
        str | None, typer.Option(help="First day (default: the layer's last DAYS days).")
    ] = None,
    out_dir: OutOpt = DEFAULT_OUT,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Simulate DAYS days of the loop on a synthetic city (clears its loop tables first)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    with _domain_errors():
        written, _ = _run_loop_demo(
            scenario, out_dir, Reporter(quiet=quiet), days=days, seed=seed, start=start
        )
        _print_written(Reporter(quiet=quiet), written)


@loop_app.command("report")
def loop_report(
    scenario: Annotated[Path, typer.Argument(help="Planned scenario folder.")],
    date: DateOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print the loop report (registrations answered, interviews, hires, follow-ups)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    from planner.loop import loop_summary

    with _domain_errors():
        city, store, _ = _loop_store(scenario, out_dir)
        summary = loop_summary(store, _day(date), days=city.params.follow_up_days)
    Reporter(quiet=quiet).print(_loop_table(summary))


def _run_loop_demo(
    scenario: Path,
    out_dir: Path,
    reporter: Reporter,
    *,
    days: int = 14,
    seed: int = 20261123,
    start: str | None = None,
) -> tuple[list[Path], dt.date]:
    """The demo's loop step: a simulated fortnight through the loop, then its report.

    Returns the files written and the simulation's last day."""
    import json

    from planner.city import load_city
    from planner.loop import loop_summary
    from planner.loop.simulate import SimParams, clear_loop, default_start, simulate

    city, store, target = _loop_store(scenario, out_dir)
    with reporter.step(f"Loading seekers of {scenario}") as progress:
        full = load_city(scenario, out_root=out_dir, progress=progress)
    if not full.scenario.synthetic:
        _fail(
            ValueError(f"`{scenario}` is not synthetic: the simulation would clear its loop tables")
        )
    seekers = full.layer("seekers")
    first = _day(start) if start else default_start(seekers, days)
    clear_loop(store)
    with reporter.step(f"Loop: {days} simulated days from {first}") as progress:
        sim = simulate(
            store,
            city,
            seekers,
            start=first,
            params=SimParams(days=days, seed=seed),
            progress=progress,
        )
    summary = loop_summary(store, sim.end, days=city.params.follow_up_days)
    reporter.print(_loop_table(summary))
    path = target / "loop_summary.json"
    path.write_text(
        json.dumps({"simulation": sim.as_dict(), "summary": summary}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    written = _write_followups(city, store, target, sim.end)
    store.close()
    return [path, *written[1:]], sim.end


def _loop_table(summary: dict[str, Any]) -> Any:
    from rich.console import Group
    from rich.table import Table

    t = summary["totals"]
    n = max(t["registrations"], 1)
    table = Table(title=f"Every registration answered 事事有回音 — as of {summary['date']}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("registrations", f"{t['registrations']:,}"),
        ("screened", f"{t['screened']:,} ({t['screened'] / n:.0%})"),
        ("screened within 1 day", f"{t['screened_within_1_day']:,}"),
        ("with recommendations", f"{t['with_recommendations']:,}"),
        (
            "answered (recommendations or a reason)",
            f"{t['answered']:,} ({t['answered_share']:.1%})",
        ),
        ("interviews (escorted)", f"{t['interviews']:,} ({t['escorted_interviews']:,})"),
        ("hires", f"{t['hires']:,}"),
        ("open cases", f"{t['open_cases']:,}"),
        ("follow-ups due / calls done", f"{t['follow_ups_due']:,} / {t['follow_ups_done']:,}"),
        ("median days to first recommendation", _days(t["median_days_to_first_recommendation"])),
        ("median days to an outcome", _days(t["median_days_to_outcome"])),
    ]
    rows += [
        (f"  no recommendation: {k}", f"{v:,}") for k, v in t["no_recommendation_reasons"].items()
    ]
    for label, value in rows:
        table.add_row(label, value)
    points = Table(title="Per service point 各服务点")
    for col in ("point", "registrations", "recommended", "interviews", "hires", "due", "calls"):
        points.add_column(col, justify="left" if col == "point" else "right")
    for point, f in summary["by_service_point"].items():
        points.add_row(
            point,
            *(
                f"{f[k]:,}"
                for k in (
                    "registrations",
                    "with_recommendations",
                    "interviews",
                    "hires",
                    "follow_ups_due",
                    "follow_ups_done",
                )
            ),
        )
    inds = Table(title="Per industry 各产业")
    for col in ("industry", "registrations", "recommended", "interviews", "hires", "due"):
        inds.add_column(col, justify="left" if col == "industry" else "right")
    for code, f in summary["by_industry"].items():
        inds.add_row(
            code,
            *(
                f"{f[k]:,}"
                for k in (
                    "registrations",
                    "with_recommendations",
                    "interviews",
                    "hires",
                    "follow_ups_due",
                )
            ),
        )
    return Group(table, inds, points)


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)
