"""Command line: info lists what exists; generate writes a valid file; bad input exits with a message."""

from __future__ import annotations

from typer.testing import CliRunner

from physinf.cli import app
from physinf.simulate import EventSample

runner = CliRunner()


def test_info_lists_processes_and_pdf_sets():
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    assert "wbf" in result.output and "NNPDF31_lo_as_0118" in result.output


def test_generate_writes_an_event_file(tmp_path):
    out = tmp_path / "ee.h5"
    result = runner.invoke(app, ["generate", "ee_mumu", "--points", "500", "--sqrt-s", "91.0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(EventSample.load(out)) > 400


def test_generate_reports_unknown_process(tmp_path):
    result = runner.invoke(app, ["generate", "wbx", "--out", str(tmp_path / "x.h5")])
    assert result.exit_code == 2
    assert "Did you mean 'wbf'" in result.output
    assert not (tmp_path / "x.h5").exists()


def test_generate_refuses_an_unwritable_output_before_working(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["generate", "ee_mumu", "--points", "500", "--sqrt-s", "91.0", "--out", str(blocker / "e.h5")])
    assert result.exit_code == 2 and "cannot write" in result.output


def test_demo_runs_end_to_end_and_resumes(tmp_path):
    import json

    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--points", "3000"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["fisher_cHWtil"]
    # information ordering: rate < Delta phi_jj histogram < score histogram < unbinned observable score
    # < unbinned joint truth (binning only loses; the jet labels hold ~5 % of the joint information,
    # far above the sampling noise of 3000 events, so the strict orderings are safe)
    infos = [row["I_cHWtil"] for row in rows.values()]
    assert infos[0] < infos[1] < infos[2] < infos[3] < infos[4]
    assert 0.85 < infos[3] / infos[4] < 1.0
    assert (out / "delta_phi_jj.png").stat().st_size > 1000
    mtime = (out / "wbf_events.h5").stat().st_mtime_ns
    again = runner.invoke(app, ["demo", "--out", str(out), "--points", "3000"])
    assert again.exit_code == 0 and (out / "wbf_events.h5").stat().st_mtime_ns == mtime  # events reused
    # another seed is another generation config: the events are regenerated, not reused
    other = runner.invoke(app, ["demo", "--out", str(out), "--points", "3000", "--seed", "2"])
    assert other.exit_code == 0 and (out / "wbf_events.h5").stat().st_mtime_ns != mtime
    assert json.loads((out / "summary.json").read_text())["config_hash"] != summary["config_hash"]
