"""Command line: ``physinf demo`` (the default job), ``physinf generate``, ``physinf info``."""

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


@app.command()
def generate(process: str = typer.Argument("wbf"),
             points: int = typer.Option(10000, help="phase-space points (events after cuts are fewer)"),
             seed: int = typer.Option(0),
             sqrt_s: float = typer.Option(13000.0, help="GeV"), out: Path = typer.Option(Path("events.h5")),
             pdf: str = typer.Option("NNPDF31_lo_as_0118")) -> None:
    """Generate weighted parton-level events and write them to an HDF5 EventSample."""
    from physinf._io import check_writable
    from physinf.errors import PhysinfError
    from physinf.simulate import generate as _generate

    try:
        check_writable(out)  # before the long work
        sample = _generate(process, points, seed=seed, sqrt_s=sqrt_s, pdf=pdf, progress=True)
    except PhysinfError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    sample.save(out)
    typer.echo(f"{sample}\n  sigma = {sample.cross_section():.6g} +- {sample.cross_section_error():.2g} pb -> {out}")


@app.command()
def info() -> None:
    """List processes and PDF sets."""
    from theory.pdf import available_sets
    from theory.processes.registry import available_processes

    typer.echo("processes: " + ", ".join(available_processes()))
    typer.echo("PDF sets:  " + ", ".join(available_sets()))


if __name__ == "__main__":
    app()
