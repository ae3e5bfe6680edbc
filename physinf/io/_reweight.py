"""MadGraph reweighting metadata: which parameter values each ``<rwgt>`` weight id stands for.

MadGraph's reweighting module writes, for each weight, the lines of its reweight card inside the
``<weight>`` element of ``<initrwgt>`` (``<weightgroup name='mg_reweighting'>``), e.g.

    <weight id='cHe_0p1'>set param_card smeft 105 0.1 # orig: 0.0</weight>

and the run's parameter card in the ``<slha>`` header block (``105 0.000000e+00 # che``). A
benchmark point is the parameter card with the ``set`` lines applied. Parsing rules:

* ``set [param_card] <block> <index...> <value>`` and ``set [param_card] <name> <value>`` (a name
  from the ``<slha>`` comments) are understood; ``# ...`` comments are ignored except
  ``# orig: <value>``, which gives the parameter's original value when the ``<slha>`` block lacks it;
  any other command is refused with the weight id and the line;
* a weight whose text holds no ``set`` line is the original parameter card (MadGraph writes such
  entries for operators its model restriction removed: their weights equal the nominal ones);
* the coefficients are the parameters any benchmark changes, named by their ``<slha>`` comment
  (``che``), else ``<block>_<index>``; a parameter missing from both the ``<slha>`` block and the
  ``# orig:`` comment is assumed to be 0 at the reference point (recorded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from physinf.errors import EventFileError

__all__ = ["Benchmarks", "is_reweighting_weight", "parse_benchmarks", "parse_slha"]

_SET = re.compile(r"^set\s+(?:param_card\s+)?(.+)$", re.IGNORECASE)
_ORIG = re.compile(r"orig\s*:\s*([-+0-9.eEdD]+)")


@dataclass(frozen=True)
class Benchmarks:
    """Benchmark points of the reweighting weights.

    ids: weight ids in file order; coefficients: names of the varied parameters; thetas (K, n):
    the parameter values of each benchmark; theta_ref (n,): the original (nominal) values;
    parameters: (block, index) of each coefficient; assumptions: what was assumed while parsing."""

    ids: tuple[str, ...]
    coefficients: tuple[str, ...]
    thetas: np.ndarray
    theta_ref: np.ndarray
    parameters: tuple[tuple[str, tuple[int, ...]], ...]
    assumptions: tuple[str, ...] = field(default=())


def parse_slha(text: str) -> tuple[dict[tuple[str, tuple[int, ...]], float], dict[str, tuple[str, tuple[int, ...]]],
                                   dict[tuple[str, tuple[int, ...]], str]]:
    """Values, name -> (block, index) and (block, index) -> name from an SLHA parameter card."""
    values: dict[tuple[str, tuple[int, ...]], float] = {}
    by_name: dict[str, tuple[str, tuple[int, ...]]] = {}
    names: dict[tuple[str, tuple[int, ...]], str] = {}
    block = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = re.match(r"(?i)(block|decay)\s+(\S+)", stripped)
        if m:
            block = m.group(2).lower() if m.group(1).lower() == "block" else None
            continue
        if block is None:
            continue
        body, _, comment = stripped.partition("#")
        tokens = body.split()
        if len(tokens) < 2:
            continue
        try:
            index = tuple(int(t) for t in tokens[:-1])
            value = float(tokens[-1].replace("d", "e").replace("D", "e"))
        except ValueError:
            continue
        key = (block, index)
        values[key] = value
        name = comment.strip().split(":")[0].strip().split()
        if name:
            names[key] = name[0]
            by_name.setdefault(name[0].lower(), key)
    return values, by_name, names


def is_reweighting_weight(group_name: str, text: str) -> bool:
    """A weight of MadGraph's reweighting module (an EFT benchmark), not a scale or PDF variation."""
    return group_name.lower() == "mg_reweighting" or bool(re.search(r"(?im)^\s*set\s", text))


def parse_benchmarks(weights: list[tuple[str, str]], slha: str) -> Benchmarks:
    """Benchmarks from (weight id, weight text) pairs and the ``<slha>`` header text."""
    values, by_name, names = parse_slha(slha)
    settings: list[dict[tuple[str, tuple[int, ...]], float]] = []
    originals: dict[tuple[str, tuple[int, ...]], float] = {}
    order: list[tuple[str, tuple[int, ...]]] = []
    for wid, text in weights:
        changes: dict[tuple[str, tuple[int, ...]], float] = {}
        for raw in text.splitlines():
            line, _, comment = raw.strip().partition("#")
            line = line.strip()
            if not line:
                continue
            m = _SET.match(line)
            if not m:
                raise EventFileError(f"reweighting weight {wid!r}: cannot interpret the line {raw.strip()!r}; physinf "
                                     "understands 'set [param_card] <block> <index...> <value>' and 'set <name> <value>'")
            tokens = m.group(1).split()
            try:
                value = float(tokens[-1].replace("d", "e").replace("D", "e"))
                if len(tokens) == 2 and not tokens[0].lstrip("-").isdigit():
                    if tokens[0].lower() not in by_name:
                        raise EventFileError(f"reweighting weight {wid!r}: parameter {tokens[0]!r} is not in the <slha> "
                                             "parameter card of the header")
                    key = by_name[tokens[0].lower()]
                else:
                    key = (tokens[0].lower(), tuple(int(t) for t in tokens[1:-1]))
                    if not key[1]:
                        raise ValueError("no index")
            except (ValueError, IndexError) as err:
                raise EventFileError(f"reweighting weight {wid!r}: malformed set line {raw.strip()!r} ({err})") from err
            changes[key] = value
            if key not in order:
                order.append(key)
            orig = _ORIG.search(comment)
            if orig and key not in originals:
                originals[key] = float(orig.group(1).replace("d", "e").replace("D", "e"))
        settings.append(changes)
    assumptions = []
    reference = []
    for key in order:
        if key in values:
            reference.append(values[key])
        elif key in originals:
            reference.append(originals[key])
        else:
            reference.append(0.0)
            assumptions.append(f"parameter {key[0]} {' '.join(map(str, key[1]))} is neither in the <slha> card nor "
                               "given by an '# orig:' comment; assumed 0 at the reference point")
    theta_ref = np.array(reference, dtype=float)
    thetas = np.tile(theta_ref, (len(weights), 1))
    for k, changes in enumerate(settings):
        for key, value in changes.items():
            thetas[k, order.index(key)] = value
    empty = [wid for (wid, _), changes in zip(weights, settings) if not changes]
    if empty:
        assumptions.append(f"{len(empty)} weight(s) set no parameter ({', '.join(empty[:5])}{', ...' if len(empty) > 5 else ''}): "
                           "they are the reference point itself")
    coefficients = tuple(names.get(key, f"{key[0]}_{'_'.join(map(str, key[1]))}") for key in order)
    return Benchmarks(tuple(w for w, _ in weights), coefficients, thetas, theta_ref, tuple(order), tuple(assumptions))
