"""Finding PDF sets on disk and loading members (docs/notes/pdfs.md §1, §8).

Search order: every directory on ``LHAPDF_DATA_PATH`` (standard LHAPDF layout
``<Set>/<Set>_NNNN.dat`` + ``<Set>/<Set>.info``), then the grids installed by the
pythia8mc wheel (``<prefix>/share/Pythia8/pdfdata/<Set>_NNNN.dat``, no ``.info``;
physinf's derived ``metadata.json`` fills in for those).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
from pathlib import Path

from ..errors import InvalidParameterError, PDFError, UnknownNameError, did_you_mean
from ._gridpdf import EXTRAPOLATORS, GridPDF
from ._lhagrid import GridData, read_info, read_lhagrid1, split_member_filename

__all__ = ["DEFAULT_SET", "available_sets", "data_paths", "load_pdf", "shipped_metadata"]

DEFAULT_SET = "NNPDF31_lo_as_0118"

#: LHAPDF's global defaults (lhapdf.conf), the bottom of the metadata cascade.
_GLOBAL_DEFAULTS = {
    "Interpolator": "logcubic",
    "Extrapolator": "continuation",
    "ForcePositive": 0,
    "AlphaS_Type": "analytic",
}


@functools.cache
def shipped_metadata() -> dict:
    """physinf's derived metadata for the grids shipped without ``.info`` (read-only use)."""
    with open(Path(__file__).with_name("metadata.json")) as fh:
        return json.load(fh)["sets"]


def _pythia_pdfdata_dirs() -> list[Path]:
    """Candidate ``share/Pythia8/pdfdata`` directories, without importing pythia8mc."""
    cands = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
    env = os.environ.get("PYTHIA8DATA")
    if env:
        cands.append(Path(env).parent.parent.parent)  # <prefix>/share/Pythia8/xmldoc
    try:
        spec = importlib.util.find_spec("pythia8mc")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        # <prefix>/lib/pythonX.Y/site-packages/pythia8mc*.so -> <prefix>
        cands.extend(Path(spec.origin).resolve().parents[i] for i in (1, 2, 3) if len(Path(spec.origin).parents) > i)
    out: list[Path] = []
    for c in cands:
        d = c / "share" / "Pythia8" / "pdfdata"
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def _lhapdf_dirs() -> list[Path]:
    env = os.environ.get("LHAPDF_DATA_PATH", "")
    return [Path(p) for p in env.split(os.pathsep) if p]


def data_paths() -> list[Path]:
    """Directories searched for PDF sets, in order: LHAPDF_DATA_PATH, then pythia8mc's pdfdata."""
    return _lhapdf_dirs() + _pythia_pdfdata_dirs()


def _find_sets() -> dict[str, tuple[str, Path]]:
    """name -> ('lhapdf', set dir) or ('flat', pdfdata dir); the first occurrence wins."""
    found: dict[str, tuple[str, Path]] = {}
    for d in _lhapdf_dirs():
        if not d.is_dir():
            continue
        for sub in sorted(d.iterdir()):
            if sub.is_dir() and ((sub / f"{sub.name}.info").is_file() or any(sub.glob(f"{sub.name}_[0-9][0-9][0-9][0-9].dat"))):
                found.setdefault(sub.name, ("lhapdf", sub))
    for d in _pythia_pdfdata_dirs():
        for f in sorted(d.glob("*_[0-9][0-9][0-9][0-9].dat")):
            split = split_member_filename(f.name)
            if split:
                found.setdefault(split[0], ("flat", d))
    return found


def available_sets() -> list[str]:
    """Names of the PDF sets found on LHAPDF_DATA_PATH and in pythia8mc's pdfdata, sorted."""
    return sorted(_find_sets())


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, mtime_ns: int, size: int) -> GridData:  # noqa: ARG001 (mtime and size: the cache key)
    return read_lhagrid1(path)


def _read(path: Path) -> GridData:
    st = path.stat()
    return _read_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)


def _not_found_message(what: str) -> str:
    where = "\n".join(f"  - {d}" for d in data_paths()) or "  (no directory: LHAPDF_DATA_PATH is unset and pythia8mc's pdfdata was not found)"
    return (
        f"{what}\nSearched, in order:\n{where}\n"
        "Put LHAPDF6 sets (<Set>/<Set>_0000.dat and <Set>/<Set>.info) in a directory and set "
        "LHAPDF_DATA_PATH=/that/dir (several directories separated by ':'), or pass the path of a .dat file."
    )


def load_pdf(
    name_or_path: str | os.PathLike = DEFAULT_SET,
    member: int = 0,
    *,
    force_positive: int | None = None,
    extrapolator: str | None = None,
) -> GridPDF:
    """Load one member of a PDF set by set name, or a member ``.dat`` file by path.

    Args:
        name_or_path: an LHAPDF set name (searched as in :func:`data_paths`), or the path of an
            ``lhagrid1`` member file (its ``.info`` is read if it sits next to it, LHAPDF-style).
        member: member number (0 = central); ignored for a path.
        force_positive: 0, 1 or 2 to override the set's ForcePositive (docs/notes/pdfs.md §5).
        extrapolator: 'continuation', 'nearest' or 'error' to override the set's Extrapolator.

    Returns:
        GridPDF. Parsed grids are cached (keyed on path, size and modification time).

    References:
        LHAPDF6: A. Buckley et al., arXiv:1412.7420. Each set's own paper is in ``metadata['Reference']``.
    """
    if isinstance(member, bool) or not isinstance(member, int) or member < 0:
        raise InvalidParameterError(f"member must be a non-negative integer, got {member!r}")
    if force_positive is not None and force_positive not in (0, 1, 2):
        raise InvalidParameterError(f"force_positive must be None, 0, 1 or 2, got {force_positive!r}")
    if extrapolator is not None and extrapolator not in EXTRAPOLATORS:
        raise InvalidParameterError(f"extrapolator must be None or one of {EXTRAPOLATORS}, got {extrapolator!r}")
    spec = os.fspath(name_or_path)
    info_path: Path | None = None
    if spec.endswith(".dat") or os.sep in spec or (os.altsep and os.altsep in spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise PDFError(f"PDF grid file {path} does not exist (passed as a path to load_pdf)")
        split = split_member_filename(path.name)
        set_name, member = split if split else (path.stem, 0)
        cand = path.parent / f"{set_name}.info"
        info_path = cand if cand.is_file() else None
    else:
        set_name = spec
        sets = _find_sets()
        if set_name not in sets:
            raise UnknownNameError(
                _not_found_message(f"unknown PDF set {set_name!r}.{did_you_mean(set_name, list(sets))}")
            )
        kind, d = sets[set_name]
        path = d / f"{set_name}_{member:04d}.dat"
        if kind == "lhapdf":
            cand = d / f"{set_name}.info"
            info_path = cand if cand.is_file() else None
        if not path.is_file():
            have = sorted(p.name for p in d.glob(f"{set_name}_[0-9][0-9][0-9][0-9].dat"))
            raise PDFError(
                _not_found_message(
                    f"PDF set {set_name!r} has no member {member} (no file {path}); "
                    f"member files present: {', '.join(have[:5])}{' ...' if len(have) > 5 else ''}"
                )
            )
    data = _read(path)
    md: dict = dict(_GLOBAL_DEFAULTS)
    if info_path is not None:
        md.update(read_info(info_path))
        md["MetadataSource"] = f"LHAPDF info file {info_path}"
    elif set_name in shipped_metadata():
        md.update(shipped_metadata()[set_name])
        md["MetadataSource"] = "physinf theory/pdf/metadata.json (derived metadata written by physinf, not an LHAPDF .info)"
    else:
        md["MetadataSource"] = "grid file only: no .info and no physinf metadata (alpha_s unavailable)"
    md.update(data.header)
    md["SetName"] = set_name
    md["Member"] = member
    md["DataFile"] = str(path)
    md["Flavors"] = list(data.flavors)
    if isinstance(md.get("SetIndex"), int):
        md["LHAPDF_ID"] = md["SetIndex"] + member
    if force_positive is not None:
        md["ForcePositive"] = force_positive
        md["ForcePositive_reason"] = "set by the caller of load_pdf"
    if extrapolator is not None:
        md["Extrapolator"] = extrapolator
    if md.get("Interpolator", "logcubic") != "logcubic":
        raise PDFError(f"interpolator {md['Interpolator']!r} of {set_name!r} is not supported (only 'logcubic')")
    ext = md.get("Extrapolator", "continuation")
    if ext not in EXTRAPOLATORS:
        raise PDFError(f"extrapolator {ext!r} in the metadata of {set_name!r} is not supported; use one of {EXTRAPOLATORS}")
    fp = md.get("ForcePositive", 0)
    if fp not in (0, 1, 2):
        raise PDFError(f"ForcePositive {fp!r} in the metadata of {set_name!r} must be 0, 1 or 2")
    return GridPDF(data, md, force_positive=fp, extrapolator=ext)
