"""The ``dianmian`` command line: a thin face over ``geo`` and ``planner``.

Every command turns domain errors into a one-line ``error: ...`` message (plus the list of
problems for bad input files) and a non-zero exit status; tracebacks are for bugs only.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from geo import DianmianError

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
DEFAULT_DEMO = Path("data/dongcao")
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
    folder: Annotated[Path, typer.Option(help="Where the demo city is built.")] = DEFAULT_DEMO,
    rebuild: Annotated[bool, typer.Option(help="Rebuild the demo city even if present.")] = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Build the Dongcao demo city (if missing) and run the whole pipeline on it (offline)."""
    _setup_logging(quiet=quiet, verbose=verbose)
    from geo.democity import build_demo_city, ensure_demo_city

    reporter = Reporter(quiet=quiet)
    with _domain_errors():
        with reporter.step("Dongcao demo city (synthetic)") as progress:
            if rebuild:
                build_demo_city(folder, progress=progress)
            else:
                ensure_demo_city(folder, progress=progress)
        _run_plan(folder, out_dir, reporter, skip_invalid=False, with_routes=True)


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
    with_routes: bool = False,
) -> None:
    from geo.engine import Engine
    from planner.city import apply_demand_updates, load_city, write_city
    from planner.points.plan import make_plan, write_plan

    with reporter.step(f"Loading and validating {scenario}") as progress:
        city = load_city(scenario, skip_invalid=skip_invalid, out_root=out_dir, progress=progress)
    target = out_dir / city.scenario.name
    apply_demand_updates(city, _feedback(city.scenario, target)[0])
    with reporter.step(f"Writing {target}") as progress:
        written = write_city(city, target, progress=progress)
    reporter.print(_summary_table(city.summary()))
    engine = Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    with reporter.step("Siting service points and assigning seekers") as progress:
        plan = make_plan(city, engine=engine, progress=progress)
        written += write_plan(plan, city, target)
    reporter.print(_crowd_table(plan.summary))
    if with_routes:
        written += _run_routes(
            scenario,
            out_dir,
            reporter,
            date=None,
            state=None,
            options=None,
            city=city,
            plan=plan,
            engine=engine,
        )
    with reporter.step("Maps"):
        written += _write_maps(city.scenario, target)
    _print_written(reporter, written)


def _feedback(scenario: Any, target: Path) -> tuple[dict[str, int], Any]:
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
    out_dir: OutOpt = DEFAULT_OUT,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan the volunteers' routes of one day and write OUT/<scenario>/routes/<date>/."""
    _setup_logging(quiet=quiet, verbose=verbose)
    reporter = Reporter(quiet=quiet)
    from planner.daily.vrp import SolveOptions

    options = SolveOptions(
        iterations=iterations, no_improvement=max(1, iterations // 2), seconds=seconds, seed=seed
    )
    with _domain_errors():
        _run_routes(scenario, out_dir, reporter, date=date, state=state, options=options)


def _run_routes(
    scenario: Path,
    out_dir: Path,
    reporter: Reporter,
    *,
    date: str | None,
    state: Path | None,
    options: Any,
    city: Any = None,
    plan: Any = None,
    engine: Any = None,
) -> list[Path]:
    """Plan one day's routes; `city`, `plan` and `engine` are reused when given (the plan
    then already includes the demand reported through the API)."""
    import datetime as dt

    from geo.engine import Engine
    from planner.city import apply_demand_updates, load_city
    from planner.daily.run import parse_date, routes_for_day
    from planner.points.plan import make_plan

    day = parse_date(date or dt.date.today().isoformat())
    if city is None:
        with reporter.step(f"Loading {scenario}") as progress:
            city = load_city(scenario, out_root=out_dir, progress=progress)
    target = out_dir / city.scenario.name
    demand, store = _feedback(city.scenario, target)
    done = [t.task_id for t in store.done_tasks(day)] if store is not None else []
    engine = engine or Engine(city.network, max_snap_m=city.scenario.planning.max_snap_m)
    if plan is None:
        apply_demand_updates(city, demand)
        with reporter.step("Siting service points") as progress:
            plan = make_plan(city, engine=engine, progress=progress)
    with reporter.step(f"Routes for {day}") as progress:
        progress(f"{len(done)} task(s) already done" if done else "")
        run = routes_for_day(
            city,
            plan,
            day,
            out_root=out_dir,
            state_file=state,
            options=options,
            engine=engine,
            done=done,
        )
    from maps.sheets import write_sheets

    run.paths.update(
        write_sheets(run.plan, run.paths["json"].parent, title=f"{city.scenario.title} {day}")
    )
    fig = run.plan.summary()
    reporter.print(
        f"Routes {day}: {fig['tasks_planned']} tasks for {fig['with_tasks']} of "
        f"{fig['volunteers']} volunteers (the others each with a reason), "
        f"{fig['tasks_left_out']} left out (each with a reason in plan.json); "
        f"utilisation {fig['utilisation']:.0%}; solver {run.timings.get('solver_s', 0):.1f} s"
    )
    written = [p for p in run.paths.values() if isinstance(p, Path)]
    return written


def _write_maps(scenario: Any, target: Path, *, date: str | None = None) -> list[Path]:
    from maps.scenario import write_scenario_maps

    tiles = scenario.map.tiles
    return write_scenario_maps(
        target,
        title=scenario.title,
        synthetic=scenario.synthetic,
        tiles=None if tiles in ("none", "osm") else tiles,
        attribution=scenario.map.attribution or None,
        date=date,
    )


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
    return table


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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        err.print("interrupted")
        sys.exit(130)
