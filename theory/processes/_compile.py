"""Compiled evaluation of a process's |M|^2 components, generated from its SymPy expressions.

The SymPy expressions stay the single source of truth; this module only decides how to evaluate
them fast. For the channels of a process the coupling symbols split into

* *varying* couplings V, whose values differ between channels (quark charges, chiral Z
  couplings, which beam holds the quark, ...), and
* *common* couplings, equal in every channel (masses, mixing angles, alpha_s).

A kernel evaluates the components of a list of channels at once. Channels are sorted into
*patterns*: which of their varying couplings are exactly zero (WBF: W or Z/photon exchange, quark
or antiquark on each line). For each pattern the zeros are substituted into the expressions (so
what they switch off costs nothing), and one common-subexpression elimination over all patterns
splits the work into

* an *event* part, free of the varying couplings (Dirac-trace contractions, propagators),
  evaluated once per event, and
* a *channel* part, evaluated in a loop over the pattern's channels with their coupling values
  read from a table.

The kernel is one numpy function (always) or one numba loop over events (when numba is installed;
faster, compiled once and cached on disk); it depends on the set of patterns, not on the
channels' values, so one kernel serves any channel list with those patterns. Points whose incoming
momenta lie on the beam axis (``pa = (E, 0, 0, E)``, ``pb = (E, 0, 0, -E)``, as every generated
event) use a kernel specialised to that frame, in which the transverse components of the incoming
momenta are exact zeros.

Exactness: the rearrangement changes only the order of floating-point operations; the stored
regression points (tests/data/regression) hold every process's components to 1e-12 of the
largest component at each point.

Environment: ``PHYSINF_KERNEL_BACKEND`` = ``numba`` (default when importable) or ``numpy``;
``PHYSINF_CACHE_DIR`` (default ``$XDG_CACHE_HOME/physinf`` or ``~/.cache/physinf``) holds the
numba kernels' generated source and machine code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["CompiledComponents", "MissingKernelError", "kernel_backend"]

_CHUNK = 4096  # events per kernel call: bounds the numpy backend's (chunk,) temporaries


class MissingKernelError(RuntimeError):
    """A pickled copy lacks a kernel it was not shipped with (the process rebuilds it)."""


def kernel_backend() -> str:
    """``"numba"`` when numba is importable and not switched off, else ``"numpy"``."""
    choice = os.environ.get("PHYSINF_KERNEL_BACKEND", "").strip().lower()
    if choice == "numpy":
        return "numpy"
    if importlib.util.find_spec("numba") is None:
        if choice == "numba":
            from theory.errors import MissingDependencyError

            raise MissingDependencyError(
                "PHYSINF_KERNEL_BACKEND=numba but numba is not installed; pip install numba, or unset the variable"
            )
        return "numpy"
    return "numba"


def cache_dir() -> Path:
    env = os.environ.get("PHYSINF_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "physinf"


# ------------------------------------------------------------------------------ symbolic part
def _substitute(exprs: Sequence[sp.Expr], subs: dict) -> list[sp.Expr]:
    """``xreplace`` over expression DAGs with shared subtrees visited once (SymPy's own
    ``xreplace`` revisits a subtree wherever it occurs, which is slow for |M|^2 expressions)."""
    memo: dict[sp.Basic, sp.Basic] = dict(subs)

    def walk(e: sp.Basic) -> sp.Basic:
        if e in memo:
            return memo[e]
        if not e.args:
            out = e
        else:
            args = [walk(a) for a in e.args]
            out = e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e
        memo[e] = out
        return out

    return [walk(sp.sympify(e)) for e in exprs]


def _live(reps: list, reduced: list) -> list:
    """Replacements that the results still need (after specialisation some become dead)."""
    need = set().union(*[e.free_symbols for e in reduced]) if reduced else set()
    keep = []
    for sym, e in reversed(reps):
        if sym in need:
            keep.append((sym, e))
            need |= e.free_symbols
    return keep[::-1]


class _Printer(PythonCodePrinter):
    """Plain arithmetic: integer powers as products (numpy and numba give the same bits)."""

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp.is_Integer and 1 < int(expr.exp) <= 4:
            base = self.parenthesize(expr.base, 100)
            return "(" + "*".join([base] * int(expr.exp)) + ")"
        if expr.exp.is_Integer and -4 <= int(expr.exp) < 0:
            base = self.parenthesize(expr.base, 100)
            return "(1.0/(" + "*".join([base] * -int(expr.exp)) + "))"
        return super()._print_Pow(expr, rational=rational)

    def _print_Rational(self, expr: sp.Rational) -> str:
        return f"({float(expr.p)!r}/{float(expr.q)!r})"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return f"{float(expr)!r}"


# ------------------------------------------------------------------------------ kernels
class _Block:
    """The channel part of one pattern: the varying couplings it reads (column in the value
    table, symbol), its subexpressions in order, and one output expression per component."""

    def __init__(self, loads: list[tuple[int, sp.Symbol]], reps: list, outputs: list) -> None:
        self.loads, self.reps, self.outputs = loads, reps, outputs


class _Kernel:
    """Generated code of one (frame, patterns, components) combination:
    ``(P (N, 4 n_particles), cp (N, n_common), V (n_channels, n_varying), order, bounds, out)``
    fills ``out`` (N, n_channels, n_outputs); the channels of pattern k are
    ``order[bounds[k]:bounds[k + 1]]``."""

    def __init__(self, name: str, inputs: Sequence[sp.Symbol], common: Sequence[sp.Symbol],
                 event_reps: list, blocks: list[_Block]) -> None:
        self.name = name
        self.inputs, self.common = list(inputs), list(common)
        self.event_reps, self.blocks = event_reps, blocks
        self.n_ops = sum(sp.count_ops(e) for _, e in event_reps) + sum(
            sum(sp.count_ops(e) for _, e in b.reps) + sum(sp.count_ops(e) for e in b.outputs) for b in blocks)
        self._lock = threading.Lock()
        self._numpy: Callable | None = None
        self._numba: Callable | None = None
        self._sources: dict[str, str] = {}

    def __getstate__(self) -> dict:
        """Picklable (for worker processes): the generated sources travel, not the SymPy form."""
        self._sources.setdefault("numpy", self.numpy_source())
        if kernel_backend() == "numba":
            self._sources.setdefault("numba", self.numba_source())
        return {"name": self.name, "n_ops": self.n_ops, "_sources": dict(self._sources)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._numpy = self._numba = None

    # ---- code generation
    def _lines(self, indent: str, event: str, numpy: bool) -> list[str]:
        """The body: inputs, event part, then one loop over the channels of each pattern.
        ``event``: the index prefix of the per-event arrays ("n, " in the numba loop, "" in numpy)."""
        pr = _Printer({"standard": "python3", "fully_qualified_modules": False})
        lines = [f"{indent}{s.name} = P[{event}{i}]" for i, s in enumerate(self.inputs)]
        lines += [f"{indent}{s.name} = cp[{event}{i}]" for i, s in enumerate(self.common)]
        lines += [f"{indent}{s.name} = {pr.doprint(e)}" for s, e in self.event_reps]
        target = ":, " if numpy else event
        for k, block in enumerate(self.blocks):
            inner = indent + "    "
            lines += [f"{indent}for jj in range(bounds[{k}], bounds[{k + 1}]):", f"{inner}j = order[jj]"]
            lines += [f"{inner}{s.name} = V[j, {i}]" for i, s in block.loads]
            lines += [f"{inner}{s.name} = {pr.doprint(e)}" for s, e in block.reps]
            lines += [f"{inner}out[{target}j, {c}] = {pr.doprint(e)}" for c, e in enumerate(block.outputs)]
        return [ln.replace("math.", "np." if numpy else "") for ln in lines]

    def numpy_source(self) -> str:
        if "numpy" in self._sources:
            return self._sources["numpy"]
        lines = ["def kernel(P, cp, V, order, bounds, out):", "    P = P.T", "    cp = cp.T"]
        return "\n".join(lines + self._lines("    ", "", numpy=True)) + "\n"

    def numba_source(self) -> str:
        if "numba" in self._sources:
            return self._sources["numba"]
        lines = ["import numpy as np", "from math import sqrt, pi", "from numba import njit", "",
                 "@njit(cache=True, nogil=True, error_model='numpy')", "def kernel(P, cp, V, order, bounds, out):",
                 "    for n in range(P.shape[0]):"]
        return "\n".join(lines + self._lines("        ", "n, ", numpy=False)) + "\n"

    # ---- backends
    def numpy_function(self) -> Callable:
        with self._lock:
            if self._numpy is None:
                namespace: dict[str, Any] = {"np": np, "sqrt": np.sqrt, "pi": np.pi}
                exec(compile(self.numpy_source(), f"<physinf kernel {self.name}>", "exec"), namespace)
                self._numpy = namespace["kernel"]
            return self._numpy

    def numba_function(self) -> Callable:
        with self._lock:
            if self._numba is None:
                self._numba = _load_numba(self.numba_source())
            return self._numba

    def __call__(self, P: np.ndarray, cp: np.ndarray, V: np.ndarray, order: np.ndarray, bounds: np.ndarray,
                 backend: str, out: np.ndarray) -> np.ndarray:
        fn = self.numba_function() if backend == "numba" else self.numpy_function()
        fn(P, cp, V, order, bounds, out)
        return out


def _write_once(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


def _load_numba(source: str) -> Callable:
    """Write the generated source to the cache folder (content-addressed) and import it as a module
    of that folder, so numba's ``cache=True`` keeps the machine code across runs and processes."""
    import sys

    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    module_name = f"physinf_kernel_{digest}"
    try:
        folder = cache_dir() / "kernels"
        _write_once(folder, module_name + ".py", source)
    except OSError:  # read-only home: a private temporary folder
        folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"physinf-kernels-{os.getuid()}"
        _write_once(folder, module_name + ".py", source)
    if str(folder) not in sys.path:
        sys.path.append(str(folder))  # numba's cache re-imports the module by name when it loads
    module = importlib.import_module(module_name)
    return module.kernel


# ------------------------------------------------------------------------------ the compiled process
class CompiledComponents:
    """Components of a process for any list of its channels (see the module docstring).

    Built from the component expressions, the momentum symbols (incoming first), the coupling
    symbols and the couplings whose values differ between channels."""

    def __init__(self, expressions: Sequence[sp.Expr], momenta: Sequence[Sequence[sp.Symbol]],
                 couplings: Sequence[sp.Symbol], varying: Sequence[sp.Symbol]) -> None:
        self.momenta = [list(m) for m in momenta]
        self.inputs = [s for m in self.momenta for s in m]
        self.couplings = list(couplings)
        self.varying = list(varying)
        self.common = [s for s in self.couplings if s not in set(self.varying)]
        self.n_components = len(expressions)
        self._expressions: list[sp.Expr] | None = [sp.sympify(e) for e in expressions]
        self._kernels: dict[str, _Kernel] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        """Picklable: the kernels built so far (as source), no SymPy expressions, so a worker
        process evaluates without rebuilding them."""
        state = {k: v for k, v in self.__dict__.items() if k != "_lock"}
        state["_expressions"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ---- channels
    def values(self, channels: Sequence[Any]) -> np.ndarray:
        """The varying couplings of each channel, (n_channels, n_varying)."""
        return np.array([[float(ch.couplings.get(s.name, 0.0)) for s in self.varying] for ch in channels],
                        dtype=float).reshape(len(channels), len(self.varying))

    @staticmethod
    def patterns(values: np.ndarray) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """Distinct zero patterns of the channels (strings of 0/1, 1 = zero coupling), the channel
        indices ordered by pattern, and the bounds of each pattern in that order."""
        keys = ["".join("1" if v == 0.0 else "0" for v in row) for row in values]
        distinct = tuple(sorted(set(keys)))
        rank = {k: i for i, k in enumerate(distinct)}
        which = np.array([rank[k] for k in keys], dtype=np.int64)
        order = np.argsort(which, kind="stable").astype(np.int64)
        bounds = np.searchsorted(which[order], np.arange(len(distinct) + 1)).astype(np.int64)
        return distinct, order, bounds

    # ---- kernels
    def kernel(self, frame: str, patterns: tuple[str, ...], components: tuple[int, ...] | None = None) -> _Kernel:
        """The kernel of ``frame`` (``"general"``, or ``"beam"``: incoming momenta along +z and -z)
        for channels of the given zero ``patterns``, for all components or only ``components``."""
        comps = tuple(range(self.n_components)) if components is None else tuple(components)
        key = f"{frame}:{'-'.join(patterns)}:{','.join(map(str, comps))}"
        with self._lock:
            if key not in self._kernels:
                if self._expressions is None:
                    raise MissingKernelError(f"the {key!r} kernel was not shipped with this copy")
                self._kernels[key] = self._build(key, frame, patterns, comps)
            return self._kernels[key]

    def _build(self, key: str, frame: str, patterns: tuple[str, ...], comps: tuple[int, ...]) -> _Kernel:
        assert self._expressions is not None
        exprs = [self._expressions[c] for c in comps]
        base: dict = {}
        if frame == "beam":
            # transverse components of the incoming momenta are exact zeros, |pz| = E
            (ea, xa, ya, za), (eb, xb, yb, zb) = self.momenta[0], self.momenta[1]
            zero = sp.Integer(0)
            base = {xa: zero, ya: zero, za: ea, xb: zero, yb: zero, zb: -eb}
        flat: list[sp.Expr] = []
        for pattern in patterns:
            subs = dict(base)
            subs.update({s: sp.Integer(0) for s, z in zip(self.varying, pattern) if z == "1"})
            flat.extend(_substitute(exprs, subs))
        reps, reduced = sp.cse(flat, optimizations=None, order="none") if flat else ([], [])
        # a subexpression belongs to the channel part when it involves a varying coupling
        per_channel = set(self.varying)
        for sym, e in reps:
            if e.free_symbols & per_channel:
                per_channel.add(sym)
        column = {s: i for i, s in enumerate(self.varying)}
        blocks, event_needs = [], []
        n = len(comps)
        for k in range(len(patterns)):
            outputs = reduced[k * n : (k + 1) * n]
            need = set().union(*[e.free_symbols for e in outputs]) if outputs else set()
            mine = []
            for sym, e in reversed(reps):
                if sym in need and sym in per_channel:
                    mine.append((sym, e))
                    need |= e.free_symbols
            loads = sorted(((column[s], s) for s in need if s in column), key=lambda t: t[0])
            event_needs.extend(s for s in need if s not in per_channel)
            blocks.append(_Block(loads, mine[::-1], outputs))
        event_reps = _live([r for r in reps if r[0] not in per_channel], event_needs)
        return _Kernel(key.replace(":", "_"), self.inputs, self.common, event_reps, blocks)

    # ---- evaluation
    def evaluate(self, p: np.ndarray, channels: Sequence[Any], backend: str | None = None,
                 frame: str | None = None, components: tuple[int, ...] | None = None) -> np.ndarray:
        """A_c(z; ch) for the given channels, (N, n_channels, n_components), or only ``components``.

        Channels must agree on every common coupling; the caller groups channels that do not
        (``Process.components_for_channels`` does). ``frame``: None (the beam-axis kernel when
        every event allows it), ``"general"`` or ``"beam"`` (the caller guarantees it)."""
        backend = backend or kernel_backend()
        n = p.shape[0]
        on_axis = frame == "beam" or (frame is None and bool(n) and _on_beam_axis(p))
        values = self.values(channels)
        patterns, order, bounds = self.patterns(values)
        kern = self.kernel("beam" if on_axis else "general", patterns, components)
        # numba compiles a kernel once (then cached on disk): worth it for generation, whose momenta
        # are always on the beam axis; other frames use numpy
        use = backend if on_axis else "numpy"
        P = np.ascontiguousarray(p.reshape(n, -1), dtype=float)
        common = np.array([float(channels[0].couplings.get(s.name, 0.0)) for s in self.common]) if channels else np.empty(0)
        # C-contiguous inputs always: numba compiles one specialisation per array layout
        cp = np.ascontiguousarray(np.broadcast_to(common, (n, len(self.common))))
        width = self.n_components if components is None else len(components)
        out = np.empty((n, len(channels), width))
        for lo in range(0, n, _CHUNK):
            kern(P[lo : lo + _CHUNK], cp[lo : lo + _CHUNK], values, order, bounds, use, out[lo : lo + _CHUNK])
        return out

    def evaluate_combined(self, p: np.ndarray, channels: Sequence[Any], weights: np.ndarray,
                          backend: str | None = None, frame: str | None = None) -> np.ndarray:
        """sum_c weights_c A_c(z; ch), (N, n_channels): e.g. |M|^2 at one theta (weights = the
        monomials f_c(theta)). Only components with a non-zero weight are evaluated, with a kernel of
        their own (at the SM, for WBF, the SM component alone: a fraction of the full cost)."""
        weights = np.asarray(weights, dtype=float)
        need = tuple(int(c) for c in np.flatnonzero(weights))
        if not need:
            return np.zeros((p.shape[0], len(channels)))
        return self.evaluate(p, channels, backend, frame, need) @ weights[list(need)]


def _on_beam_axis(p: np.ndarray) -> bool:
    """Incoming momenta exactly along +z (pa) and -z (pb), as the generator's maps produce them."""
    pa, pb = p[:, 0], p[:, 1]
    return bool(np.all(pa[:, 1] == 0) and np.all(pa[:, 2] == 0) and np.all(pa[:, 3] == pa[:, 0])
                and np.all(pb[:, 1] == 0) and np.all(pb[:, 2] == 0) and np.all(pb[:, 3] == -pb[:, 0]))
