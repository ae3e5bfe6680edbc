"""Compiled evaluation of a process's |M|^2 components, generated from its SymPy expressions.

The SymPy expressions stay the single source of truth; this module only decides how to evaluate
them fast. For the channels of a process the coupling symbols split into

* *varying* couplings V, whose values differ between channels (quark charges, chiral Z
  couplings, which beam holds the quark, ...), and
* *common* couplings, equal in every channel (masses, mixing angles, alpha_s).

Every component is a polynomial in V (checked symbolically; a process whose expressions are not
falls back to per-channel evaluation), so

    A_c(z; ch) = sum_m K_cm(z; common) * g_m(ch),     g_m(ch) = prod_i V_i(ch)^(m_i),

with kinematic coefficient functions K_cm evaluated once per event, whatever the number of
channels, and the channel dependence a matrix product with the monomial table g_m(ch). The
coefficient functions are compiled after common-subexpression elimination into one numpy
function (always) or one numba loop over events (when numba is installed; faster, compiled once
and cached on disk). Points whose incoming momenta lie on the beam axis (``pa = (E, 0, 0, E)``,
``pb = (E, 0, 0, -E)``, as every generated event) use a kernel specialised to that frame, in
which the transverse components of the incoming momenta are exact zeros.

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
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["CompiledComponents", "MissingKernelError", "NotPolynomialError", "kernel_backend", "polynomial_coefficients"]

_CHUNK = 4096  # events per kernel call: bounds the (chunk, n_coefficients) temporaries


class NotPolynomialError(ValueError):
    """An expression is not a polynomial in the channel-varying couplings."""


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
def polynomial_coefficients(expr: sp.Expr, varying: Sequence[sp.Symbol],
                            memo: dict | None = None) -> dict[tuple[int, ...], sp.Expr]:
    """``expr`` as {monomial: coefficient}: monomials are sorted tuples of indices into
    ``varying`` (with repetition), coefficients free of them. Walks the expression tree once
    (shared subtrees via ``memo``), multiplying out only the varying symbols: the kinematic
    factors stay as they are. Raises NotPolynomialError otherwise."""
    memo = {} if memo is None else memo
    vset = set(varying)
    index = {s: i for i, s in enumerate(varying)}

    def times(a: dict, b: dict) -> dict:
        acc: dict[tuple[int, ...], list] = defaultdict(list)
        for m1, c1 in a.items():
            for m2, c2 in b.items():
                acc[tuple(sorted(m1 + m2))].append(c1 * c2)
        return {m: sp.Add(*cs) for m, cs in acc.items()}

    def walk(e: sp.Expr) -> dict:
        if e in memo:
            return memo[e]
        if not (e.free_symbols & vset):
            out = {(): e}
        elif e.is_Symbol:
            out = {(index[e],): sp.Integer(1)}
        elif e.is_Add:
            acc: dict[tuple[int, ...], list] = defaultdict(list)
            for arg in e.args:
                for m, c in walk(arg).items():
                    acc[m].append(c)
            out = {m: sp.Add(*cs) for m, cs in acc.items()}
        elif e.is_Mul:
            out = {(): sp.Mul(*[a for a in e.args if not (a.free_symbols & vset)])}
            for arg in e.args:
                if arg.free_symbols & vset:
                    out = times(out, walk(arg))
        elif e.is_Pow and e.exp.is_Integer and int(e.exp) > 0:
            base, out = walk(e.base), {(): sp.Integer(1)}
            for _ in range(int(e.exp)):
                out = times(out, base)
        else:
            raise NotPolynomialError(f"{e.func.__name__} of a channel coupling: {sp.srepr(e)[:120]}")
        memo[e] = out
        return out

    return {m: c for m, c in walk(sp.sympify(expr)).items() if c != 0}


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
class _Kernel:
    """Coefficient functions of one frame: ``(P (N, 4 n_particles), common (N, n_common)) -> (N, F)``."""

    def __init__(self, name: str, inputs: Sequence[sp.Symbol], common: Sequence[sp.Symbol],
                 reps: list, reduced: list) -> None:
        self.name = name
        self.inputs, self.common = list(inputs), list(common)
        self.reps, self.reduced = _live(reps, reduced), reduced
        self.n_out = len(reduced)
        self.n_ops = sum(sp.count_ops(e) for _, e in self.reps) + sum(sp.count_ops(e) for e in reduced)
        self._lock = threading.Lock()
        self._numpy: Callable | None = None
        self._numba: Callable | None = None
        self._sources: dict[str, str] = {}

    def __getstate__(self) -> dict:
        """Picklable (for worker processes): the generated sources travel, not the SymPy form."""
        self._sources.setdefault("numpy", self.numpy_source())
        if kernel_backend() == "numba":
            self._sources.setdefault("numba", self.numba_source())
        return {"name": self.name, "n_out": self.n_out, "n_ops": self.n_ops, "_sources": dict(self._sources)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._numpy = self._numba = None

    # ---- code generation
    def _body(self, indent: str, event: str) -> list[str]:
        pr = _Printer({"standard": "python3", "fully_qualified_modules": False})
        lines = [f"{indent}{s.name} = P[{event}{i}]" for i, s in enumerate(self.inputs)]
        lines += [f"{indent}{s.name} = cp[{event}{i}]" for i, s in enumerate(self.common)]
        lines += [f"{indent}{s.name} = {pr.doprint(e)}" for s, e in self.reps]
        return [ln.replace("math.", "") for ln in lines]

    def numpy_source(self) -> str:
        if "numpy" in self._sources:
            return self._sources["numpy"]
        pr = _Printer({"standard": "python3", "fully_qualified_modules": False})
        lines = ["def kernel(P, cp, out):", "    P = P.T", "    cp = cp.T"]
        lines += [ln.replace("math.", "np.") for ln in self._body("    ", "")]
        for k, e in enumerate(self.reduced):
            lines.append(f"    out[:, {k}] = {pr.doprint(e).replace('math.', 'np.')}")
        return "\n".join(lines) + "\n"

    def numba_source(self) -> str:
        if "numba" in self._sources:
            return self._sources["numba"]
        pr = _Printer({"standard": "python3", "fully_qualified_modules": False})
        lines = ["import numpy as np", "from math import sqrt, pi", "from numba import njit", "",
                 "@njit(cache=True, nogil=True, error_model='numpy')", "def kernel(P, cp, out):",
                 "    for n in range(P.shape[0]):"]
        lines += self._body("        ", "n, ")
        for k, e in enumerate(self.reduced):
            lines.append(f"        out[n, {k}] = {pr.doprint(e).replace('math.', '')}")
        return "\n".join(lines) + "\n"

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

    def __call__(self, P: np.ndarray, cp: np.ndarray, backend: str, out: np.ndarray) -> np.ndarray:
        if backend == "numba":
            self.numba_function()(P, cp, out)
        else:
            self.numpy_function()(P, cp, out)
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
    """Components of a process for any list of its channels, with the coupling dependence factored
    out of the kinematics (see the module docstring).

    Built from the component expressions, the momentum symbols (incoming first), the coupling
    symbols and the channels whose values decide which couplings vary."""

    def __init__(self, expressions: Sequence[sp.Expr], momenta: Sequence[Sequence[sp.Symbol]],
                 couplings: Sequence[sp.Symbol], varying: Sequence[sp.Symbol]) -> None:
        self.momenta = [list(m) for m in momenta]
        self.inputs = [s for m in self.momenta for s in m]
        self.couplings = list(couplings)
        self.varying = list(varying)
        self.common = [s for s in self.couplings if s not in set(self.varying)]
        self.n_components = len(expressions)
        memo: dict = {}
        polys = [polynomial_coefficients(e, self.varying, memo) for e in expressions]
        self.monomials: list[tuple[int, ...]] = sorted({m for p in polys for m in p}, key=lambda m: (len(m), m))
        position = {m: i for i, m in enumerate(self.monomials)}
        flat: list[sp.Expr] = []
        self.columns, self.rows = [], []
        for p in polys:
            ms = sorted(p, key=lambda m: position[m])
            self.columns.append(np.arange(len(flat), len(flat) + len(ms)))
            self.rows.append(np.array([position[m] for m in ms], dtype=int))
            flat.extend(p[m] for m in ms)
        self.n_coefficients = len(flat)
        self._flat: list[sp.Expr] | None = flat
        self._kernels: dict[str, _Kernel] = {}
        self._tables: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        """Picklable: tables and the kernels built so far (as source); no SymPy expressions, so a
        worker process evaluates without rebuilding them."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("_flat", "_lock", "_tables")}
        state["_flat"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._tables = {}

    # ---- kernels
    def kernel(self, frame: str, components: tuple[int, ...] | None = None) -> _Kernel:
        """The kernel of ``frame`` (``"general"``, or ``"beam"``: incoming momenta along +z and -z)
        for all components, or only for ``components`` (their coefficient blocks in that order)."""
        key = frame if components is None else f"{frame}:{','.join(map(str, components))}"
        with self._lock:
            if key not in self._kernels:
                if self._flat is None:
                    raise MissingKernelError(f"the {key!r} kernel was not shipped with this copy")
                flat = self._flat
                if components is not None:
                    flat = [flat[i] for c in components for i in self.columns[c]]
                if frame == "beam":
                    # transverse components of the incoming momenta are exact zeros, |pz| = E
                    (ea, xa, ya, za), (eb, xb, yb, zb) = self.momenta[0], self.momenta[1]
                    zero = sp.Integer(0)
                    flat = _substitute(flat, {xa: zero, ya: zero, za: ea, xb: zero, yb: zero, zb: -eb})
                reps, reduced = sp.cse(flat, optimizations=None, order="none") if flat else ([], [])
                self._kernels[key] = _Kernel(key.replace(":", "_"), self.inputs, self.common, reps, reduced)
            return self._kernels[key]

    def coefficients(self, p: np.ndarray, common: np.ndarray, backend: str | None = None,
                     frame: str | None = None, components: tuple[int, ...] | None = None) -> np.ndarray:
        """Kinematic coefficient functions K (N, n_coefficients) at momenta p (N, P, 4) and common
        couplings (n_common,) or per event (N, n_common). ``frame``: None (the beam-axis kernel
        when every event allows it), ``"general"`` or ``"beam"`` (the caller guarantees it)."""
        backend = backend or kernel_backend()
        n = p.shape[0]
        on_axis = frame == "beam" or (frame is None and bool(n) and _on_beam_axis(p))
        kern = self.kernel("beam" if on_axis else "general", components)
        # numba compiles a kernel once (about a minute for WBF, then cached on disk): worth it for
        # generation, whose momenta are always on the beam axis; other frames use numpy
        use = backend if on_axis else "numpy"
        P = np.ascontiguousarray(p.reshape(n, -1), dtype=float)
        # C-contiguous inputs always: numba compiles one specialisation per array layout
        cp = np.ascontiguousarray(np.broadcast_to(np.asarray(common, dtype=float), (n, len(self.common))))
        out = np.empty((n, kern.n_out))
        for lo in range(0, n, _CHUNK):
            kern(P[lo : lo + _CHUNK], cp[lo : lo + _CHUNK], use, out[lo : lo + _CHUNK])
        return out

    def monomial_table(self, channels: Sequence[Any]) -> np.ndarray:
        """g_m(ch) for every monomial and channel, shape (n_monomials, n_channels) (cached per list
        of channel objects: the generator asks for the same list at every batch)."""
        key = tuple(id(ch) for ch in channels)
        hit = self._tables.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], channels)):
            return hit[1]
        vals = np.array([[float(ch.couplings.get(s.name, 0.0)) for ch in channels] for s in self.varying])
        table = np.ones((len(self.monomials), len(channels)))
        for k, m in enumerate(self.monomials):
            for i in m:
                table[k] *= vals[i]
        if len(self._tables) > 32:
            self._tables.clear()
        self._tables[key] = (list(channels), table)
        return table

    def evaluate(self, p: np.ndarray, channels: Sequence[Any], backend: str | None = None,
                 frame: str | None = None) -> np.ndarray:
        """A_c(z; ch) for the given channels, (N, n_channels, n_components).

        Channels must agree on every common coupling (those do not enter the monomial table); the
        caller groups channels that do not (``Process.components_for_channels`` does). Each
        component is one matrix product of its contiguous block of coefficient functions with its
        rows of the monomial table (BLAS; its result does not depend on the thread count)."""
        common = np.array([float(channels[0].couplings.get(s.name, 0.0)) for s in self.common])
        table = self.monomial_table(channels)
        # (component, event, channel) in memory: each product writes one contiguous block
        out = np.empty((self.n_components, p.shape[0], len(channels)))
        for lo in range(0, p.shape[0], _CHUNK):
            K = self.coefficients(p[lo : lo + _CHUNK], common, backend, frame)
            for c in range(self.n_components):
                cols = self.columns[c]
                if cols.size:
                    np.matmul(K[:, cols[0] : cols[-1] + 1], table[self.rows[c]], out=out[c, lo : lo + _CHUNK])
                else:
                    out[c, lo : lo + _CHUNK] = 0.0
        return out.transpose(1, 2, 0)

    def evaluate_combined(self, p: np.ndarray, channels: Sequence[Any], weights: np.ndarray,
                          backend: str | None = None, frame: str | None = None) -> np.ndarray:
        """sum_c weights_c A_c(z; ch), (N, n_channels): e.g. |M|^2 at one theta (weights = the
        monomials f_c(theta)). Only components with a non-zero weight are evaluated, with a kernel of
        their own (at the SM, for WBF, the SM component alone: a fraction of the full cost)."""
        weights = np.asarray(weights, dtype=float)
        need = tuple(int(c) for c in np.flatnonzero(weights))
        kernel_components = None if len(need) == self.n_components else need
        common = np.array([float(channels[0].couplings.get(s.name, 0.0)) for s in self.common])
        table = self.monomial_table(channels)
        out = np.zeros((p.shape[0], len(channels)))
        if not need:
            return out
        for lo in range(0, p.shape[0], _CHUNK):
            K = self.coefficients(p[lo : lo + _CHUNK], common, backend, frame, kernel_components)
            start = 0
            for c in need:
                width = self.columns[c].size
                if width:
                    out[lo : lo + _CHUNK] += weights[c] * (K[:, start : start + width] @ table[self.rows[c]])
                start += width
        return out


def _on_beam_axis(p: np.ndarray) -> bool:
    """Incoming momenta exactly along +z (pa) and -z (pb), as the generator's maps produce them."""
    pa, pb = p[:, 0], p[:, 1]
    return bool(np.all(pa[:, 1] == 0) and np.all(pa[:, 2] == 0) and np.all(pa[:, 3] == pa[:, 0])
                and np.all(pb[:, 1] == 0) and np.all(pb[:, 2] == 0) and np.all(pb[:, 3] == -pb[:, 0]))
