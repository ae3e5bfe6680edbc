"""Command line.

``physinf run CONFIG.toml`` runs a whole chain (generate -> detector -> learn -> distil -> fit ->
report) in a run folder, resuming what is cached; stage commands (``generate``, ``detect``,
``train``, ``distill``, ``fit``, ``report``) run a config up to that stage; ``physinf info`` and
``physinf presets`` list what exists; ``physinf demo`` is the quick parton-level job.
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False, help="physinf: from dimension-6 Wilson coefficients to a published likelihood.")


@app.command()
def demo(out: Path = typer.Option(Path("runs/demo"), help="run folder"),
         points: int = typer.Option(20000, help="phase-space points (events after cuts are fewer)"),
         seed: int = typer.Option(1), lumi: float = typer.Option(300.0, help="luminosity in fb^-1")) -> None:
    """Default end-to-end job: WBF events, cross section, optimal observables, expected limits."""
    from physinf.demo import format_summary, run_demo

    typer.echo(format_summary(run_demo(out, points, seed, lumi)))


def _fail(err: Exception) -> typer.Exit:
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(2)


def _run(config: Path, *, force: str | None = None, only: str | None = None, scheduler: str | None = None,
         quiet: bool = False) -> None:
    from physinf.errors import PhysinfError
    from physinf.pipeline.config import load_config
    from physinf.pipeline.run import run_config

    try:
        cfg = load_config(config)
        if scheduler is not None:
            cfg["scheduler"] = scheduler
        result, run_ = run_config(cfg, force=force, only=only, progress=not quiet)
    except PhysinfError as err:
        raise _fail(err) from err
    typer.echo(result.summary(run_))


@app.command()
def run(config: Path = typer.Argument(..., help="run config (TOML)"),
        print_config: bool = typer.Option(False, "--print-config", help="show the fully resolved config and stop"),
        force: str = typer.Option(None, help="rerun this stage and everything after it"),
        scheduler: str = typer.Option(None, help="dask.distributed scheduler address (default: local processes)"),
        quiet: bool = typer.Option(False, help="no progress bars")) -> None:
    """Run a config from Lagrangian to published likelihood; cached stages are reused."""
    if print_config:
        import json

        from physinf.errors import PhysinfError
        from physinf.pipeline.config import load_config

        try:
            typer.echo(json.dumps(load_config(config), indent=2))
        except PhysinfError as err:
            raise _fail(err) from err
        return
    _run(config, force=force, scheduler=scheduler, quiet=quiet)


def _stage_command(stage: str, doc: str):
    def command(config: Path = typer.Argument(..., help="run config (TOML)"),
                force: bool = typer.Option(False, help="rerun this stage even if cached"),
                quiet: bool = typer.Option(False, help="no progress bars")) -> None:
        _run(config, force=stage if force else None, only=stage, quiet=quiet)

    command.__doc__ = doc
    return command


for _stage, _doc in (("detect", "Run a config up to the detector stage."), ("train", "Run a config up to the learned score."),
                     ("distill", "Run a config up to the distilled formula."), ("fit", "Run a config up to the limits."),
                     ("report", "Run a config up to the HTML report.")):
    app.command(name=_stage)(_stage_command(_stage, _doc))


@app.command()
def generate(process: str = typer.Argument("wbf", help="a process name, or a run config (TOML) to run its events stage"),
             points: int = typer.Option(10000, help="phase-space points (events after cuts are fewer)"),
             seed: int = typer.Option(0),
             sqrt_s: float = typer.Option(13000.0, help="GeV"), out: Path = typer.Option(Path("events.h5")),
             pdf: str = typer.Option("NNPDF31_lo_as_0118"),
             workers: int = typer.Option(1, help="local worker processes (the result is identical for any number)")) -> None:
    """Generate weighted parton-level events and stream them to an HDF5 EventSample file."""
    if process.endswith(".toml"):
        _run(Path(process), only="events")
        return
    from physinf.errors import PhysinfError
    from physinf.simulate import generate as _generate

    try:
        events = _generate(process, points, seed=seed, sqrt_s=sqrt_s, pdf=pdf, progress=True, out=out, n_workers=workers)
    except PhysinfError as err:
        raise _fail(err) from err
    typer.echo(f"{events}\n  sigma = {events.cross_section():.6g} pb -> {out}")


@app.command()
def presets(name: str = typer.Argument(None, help="print this preset's TOML card (to copy and edit)")) -> None:
    """List the detector presets, or print one card: ``physinf presets atlas-like > my.toml``."""
    from physinf.detector import available_presets, preset_path
    from physinf.errors import PhysinfError

    if name is None:
        for preset, description in available_presets().items():
            typer.echo(f"{preset:12s} {description}")
            typer.echo(f"{'':12s} {preset_path(preset)}")
        typer.echo("Use one: FastDetector.from_preset(NAME or PATH); copy one: physinf presets NAME > my.toml")
        return
    try:
        typer.echo(preset_path(name).read_text(encoding="utf-8"), nl=False)
    except PhysinfError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err


@app.command()
def info() -> None:
    """List processes (with their coefficients), PDF sets, detector presets, estimators and stages."""
    from physinf.detector import available_presets
    from physinf.pipeline.config import STAGES
    from theory.pdf import available_sets
    from theory.processes.registry import available_processes, get_process

    typer.echo("processes:")
    for name in available_processes():
        proc = get_process(name)
        typer.echo(f"  {name:15s} coefficients {list(proc.coefficients)}  {proc.description}")
    typer.echo("PDF sets:  " + ", ".join(available_sets()))
    typer.echo("detector presets: " + ", ".join(available_presets()))
    typer.echo("estimators: LocalScoreEstimator (SALLY), ParameterizedRatioEstimator (carl, alices, rascal), "
               "QuadraticRatioEstimator, AmplitudeSurrogate, posteriors (npe, nle, nre)")
    typer.echo("run stages: " + ", ".join(STAGES))


if __name__ == "__main__":
    app()
