"""Reading LHAPDF6 ``lhagrid1`` member files and ``.info`` files (docs/notes/pdfs.md §1-§2).

A member file is a YAML header, a line ``---``, then subgrid blocks, each ending
with ``---``. A block holds the x knots, the Q knots (in GeV, squared here), the
PDG ids of the columns, then nx*nQ rows of x*f(x, Q), x-major and Q-minor.

The numbers are parsed in bulk with numpy; Python only loops over lines to find
the block boundaries, and over numbers only when it must say which line is bad.

References:
    LHAPDF6: A. Buckley et al., arXiv:1412.7420 (the ``lhagrid1`` format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import PDFError

__all__ = ["GridData", "Subgrid", "parse_info_text", "read_info", "read_lhagrid1"]


@dataclass(frozen=True, eq=False)
class Subgrid:
    """One subgrid: knots, values and precomputed log-x derivatives (read-only arrays)."""

    xs: np.ndarray  # (nx,) ascending
    q2s: np.ndarray  # (nq,) ascending, in GeV^2
    logxs: np.ndarray
    logq2s: np.ndarray
    xf: np.ndarray  # (nx, nq, nflav): x f(x, Q)
    dxf: np.ndarray  # (nx, nq, nflav): d(xf)/d(log x) finite differences (docs/notes/pdfs.md §3)
    vd: np.ndarray  # (nx*nq, 2, nflav): [xf, dxf] stacked, row ix*nq + iq, for one gather per knot
    vd_by_flav: tuple[np.ndarray, ...]  # nflav contiguous (nx*nq, 2) tables for single-flavour calls


@dataclass(frozen=True, eq=False)
class GridData:
    """A parsed member file: header metadata, column PDG ids and subgrids ordered in Q."""

    path: Path
    header: dict
    flavors: tuple[int, ...]
    subgrids: tuple[Subgrid, ...]


# ---------------------------------------------------------------- minimal YAML


def _scalar(text: str):
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    low = t.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("null", "~", ""):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _split_flow(inner: str) -> list[str]:
    """Split the inside of a YAML flow list on commas outside quotes."""
    parts, cur, quote = [], [], ""
    for ch in inner:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch == ",":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return parts


def parse_info_text(text: str, *, source: str = "<text>") -> dict:
    """Parse the flat YAML used by LHAPDF ``.info`` files and member headers.

    Supports ``Key: scalar`` and ``Key: [a, b, ...]`` (a flow list may span lines),
    ``#`` comments and quoted strings. That is all LHAPDF metadata uses; nested
    YAML is not needed, so pyyaml is not required.
    """
    out: dict = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        line = raw.strip()
        if not line or line.startswith("#") or line == "---":
            continue
        if ":" not in line:
            if raw[:1].isspace() and out:  # indented continuation of a plain scalar
                key = next(reversed(out))
                if isinstance(out[key], str):
                    out[key] = f"{out[key]} {line}"
                continue
            raise PDFError(f"{source}, line {i}: expected 'Key: value', got {line!r}")
        key, value = line.split(":", 1)
        value = value.strip()
        if value[:1] in ("'", '"') and value.find(value[0], 1) > 0:
            value = value[: value.find(value[0], 1) + 1]  # a quoted scalar; drop any trailing comment
        elif not value.startswith("["):
            value = value.split(" #", 1)[0].strip()
        if value.startswith("["):
            while "]" not in value and i < len(lines):
                value += " " + lines[i].strip()
                i += 1
            if not value.endswith("]"):
                raise PDFError(f"{source}, line {i}: unterminated list for key {key.strip()!r}")
            out[key.strip()] = [_scalar(p) for p in _split_flow(value[1:-1])]
        else:
            out[key.strip()] = _scalar(value)
    return out


def read_info(path: Path) -> dict:
    """Read a set's ``.info`` file."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise PDFError(f"cannot read PDF info file {path}: {exc}") from exc
    return parse_info_text(text, source=str(path))


# ---------------------------------------------------------------- member files


def _floats(line: str, lineno: int, path: Path, what: str) -> np.ndarray:
    try:
        return np.array(line.split(), dtype=float)
    except ValueError:
        raise PDFError(f"{path}, line {lineno}: non-numeric {what}: {line[:80]!r}") from None


def _ddlogx(xf: np.ndarray, logxs: np.ndarray) -> np.ndarray:
    """d(xf)/d(log x) at every knot: central average, one-sided at the ends (docs/notes/pdfs.md §3)."""
    dl = np.diff(logxs)[:, None, None]
    d = np.diff(xf, axis=0) / dl  # (nx-1, nq, nf) forward differences
    out = np.empty_like(xf)
    out[0] = d[0]
    out[-1] = d[-1]
    out[1:-1] = 0.5 * (d[:-1] + d[1:])
    return out


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _build_block(path: Path, block: list[tuple[int, str]], nflav_expected: int | None) -> tuple[tuple[int, ...], Subgrid]:
    if len(block) < 3:
        raise PDFError(
            f"{path}, line {block[0][0] if block else '?'}: a subgrid block needs x knots, Q knots and "
            "flavour lines before its data rows"
        )
    (lx, xline), (lq, qline), (lf, fline) = block[:3]
    xs = _floats(xline, lx, path, "x knot")
    qs = _floats(qline, lq, path, "Q knot")
    try:
        flavors = tuple(int(t) for t in fline.split())
    except ValueError:
        raise PDFError(f"{path}, line {lf}: flavour line must hold integer PDG ids, got {fline[:80]!r}") from None
    nx, nq, nf = len(xs), len(qs), len(flavors)
    if nflav_expected is not None and nf != nflav_expected:
        raise PDFError(f"{path}, line {lf}: {nf} flavours, but the first subgrid has {nflav_expected}")
    if np.any(xs <= 0) or np.any(np.diff(xs) < 0):
        raise PDFError(f"{path}, line {lx}: x knots must be positive and ascending")
    if np.any(qs <= 0) or np.any(np.diff(qs) <= 0):
        raise PDFError(f"{path}, line {lq}: Q knots must be positive and strictly ascending")
    rows = block[3:]
    if len(rows) != nx * nq:
        raise PDFError(
            f"{path}: subgrid starting at line {lx} has {len(rows)} data rows, expected "
            f"nx*nQ = {nx}*{nq} = {nx * nq} (last row read: line {rows[-1][0] if rows else lf})"
        )
    tokens = " ".join(r[1] for r in rows).split()
    if len(tokens) != nx * nq * nf:
        for ln, text in rows:
            if len(text.split()) != nf:
                raise PDFError(f"{path}, line {ln}: expected {nf} values (one per flavour), got {len(text.split())}")
    try:
        vals = np.array(tokens, dtype=float)
    except ValueError:
        for ln, text in rows:
            _floats(text, ln, path, "value")
        raise  # pragma: no cover - the loop always finds the bad line
    if not np.all(np.isfinite(vals)):
        bad = int(np.flatnonzero(~np.isfinite(vals))[0]) // nf
        raise PDFError(f"{path}, line {rows[bad][0]}: non-finite value")
    xf = vals.reshape(nx, nq, nf)
    # Repeated x knots (e.g. CT14qed repeats x=1e-9) are harmless only with identical rows: drop them.
    dup = np.flatnonzero(np.diff(xs) == 0)
    if dup.size:
        if not np.array_equal(xf[dup], xf[dup + 1]):
            raise PDFError(f"{path}, line {lx}: repeated x knot with different values")
        keep = np.ones(nx, bool)
        keep[dup + 1] = False
        xs, xf, nx = xs[keep], xf[keep], int(keep.sum())
    if nx < 4 or nq < 2:
        raise PDFError(f"{path}, line {lx}: a subgrid needs at least 4 x knots and 2 Q knots, got {nx} and {nq}")
    logxs = np.log(xs)
    q2s = qs * qs
    dxf = _ddlogx(xf, logxs)
    vd = np.stack([xf, dxf], axis=2).reshape(nx * nq, 2, nf)
    sg = Subgrid(
        xs=_readonly(xs),
        q2s=_readonly(q2s),
        logxs=_readonly(logxs),
        logq2s=_readonly(np.log(q2s)),
        xf=_readonly(xf),
        dxf=_readonly(dxf),
        vd=_readonly(vd),
        vd_by_flav=tuple(_readonly(vd[:, :, k]) for k in range(nf)),
    )
    return flavors, sg


def read_lhagrid1(path: str | Path) -> GridData:
    """Parse one ``lhagrid1`` member file; raise PDFError naming the line on any defect."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise PDFError(f"cannot read PDF grid file {path}: {exc}") from exc
    except UnicodeDecodeError:
        raise PDFError(f"{path} is not a text lhagrid1 file") from None
    lines = text.splitlines()
    seps = [i for i, ln in enumerate(lines) if ln.strip() == "---"]
    if not seps:
        raise PDFError(f"{path}: no '---' line after the header: not an LHAPDF6 lhagrid1 file")
    header = parse_info_text("\n".join(lines[: seps[0]]), source=str(path))
    fmt = header.get("Format", "lhagrid1")
    if fmt != "lhagrid1":
        raise PDFError(f"{path}: Format {fmt!r} is not supported (only 'lhagrid1')")
    last_content = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    if last_content != seps[-1]:
        raise PDFError(
            f"{path}, line {last_content + 1}: the file must end with a '---' line after the last "
            "subgrid (truncated file?)"
        )
    flavors: tuple[int, ...] | None = None
    subgrids: list[Subgrid] = []
    for a, b in zip(seps[:-1], seps[1:]):
        block = [
            (i + 1, ln.strip())
            for i, ln in enumerate(lines[a + 1 : b], start=a + 1)
            if ln.strip() and not ln.lstrip().startswith("#")
        ]
        fl, sg = _build_block(path, block, None if flavors is None else len(flavors))
        if flavors is not None and fl != flavors:
            raise PDFError(f"{path}, line {block[2][0]}: flavour ids {fl} differ from the first subgrid's {flavors}")
        flavors = fl
        subgrids.append(sg)
    if not subgrids:
        raise PDFError(f"{path}: no subgrid blocks after the header")
    subgrids.sort(key=lambda s: s.q2s[0])
    return GridData(path=path, header=header, flavors=tuple(flavors), subgrids=tuple(subgrids))


_MEMBER_RE = re.compile(r"^(?P<set>.+)_(?P<member>\d{4})\.dat$")


def split_member_filename(name: str) -> tuple[str, int] | None:
    """'NNPDF31_lo_as_0118_0000.dat' -> ('NNPDF31_lo_as_0118', 0); None if not a member file name."""
    m = _MEMBER_RE.match(name)
    return (m["set"], int(m["member"])) if m else None
