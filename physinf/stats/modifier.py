"""A pyhf modifier whose factor is a polynomial in Wilson coefficients.

pyhf 0.7.6 has no public custom-modifier API, but ``pyhf.Model(spec, modifier_set=...)`` accepts
(builder, applier) pairs of our own. The modifier type ``"eftpoly"`` multiplies a sample by

    f(c) = sum_t a_t * prod_j c_j ** k_tj

with the terms given in the modifier's data::

    {"name": "eft", "type": "eftpoly",
     "data": {"terms": [{"scale": 1.0, "powers": {"cHW": 1, "cHWtil": 1}}]}}

A single term with ``scale`` 1 is a monomial (one sample per morphing component: SM, c_i, c_i c_j);
several terms express polynomial factors such as (1 - c), c and (c^2 - c) of a positive-template
decomposition. Every coefficient named in any term becomes an unconstrained scalar parameter.
The factor is built from tensorlib operations only (products, einsum), so fits, scans and
automatic differentiation work with every pyhf backend.

Data are looked up by the ``"type/name"`` key and the global sample order of the model's
configuration, never by declaration order.
"""

from __future__ import annotations

from typing import Any

import pyhf
from pyhf import events, get_backend
from pyhf.parameters import ParamViewer

__all__ = ["DEFAULT_BOUND", "EFT_MODIFIER_TYPE", "eft_modifier_set", "eftpoly_builder", "eftpoly_combined"]

EFT_MODIFIER_TYPE = "eftpoly"
#: default parameter bounds for a coefficient when the measurement does not set them
DEFAULT_BOUND = 10.0


def _terms_of(thismod: dict) -> list[tuple[float, tuple[tuple[str, int], ...]]]:
    data = thismod.get("data") or {}
    terms = data.get("terms")
    if not isinstance(terms, list) or not terms:
        msg = f"eftpoly modifier {thismod.get('name')!r} needs data={{'terms': [...]}} with at least one term"
        raise pyhf.exceptions.InvalidModifier(msg)
    out = []
    for term in terms:
        powers = tuple(sorted((str(k), int(v)) for k, v in term.get("powers", {}).items() if int(v) != 0))
        out.append((float(term.get("scale", 1.0)), powers))
    return out


def _required_parset() -> dict[str, Any]:
    return {
        "paramset_type": "unconstrained",
        "n_parameters": 1,
        "is_scalar": True,
        "inits": (0.0,),
        "bounds": ((-DEFAULT_BOUND, DEFAULT_BOUND),),
        "fixed": False,
    }


class eftpoly_builder:  # noqa: N801 (pyhf naming convention for modifier classes)
    """Collects, per ``type/name`` key and sample, the polynomial terms of every bin."""

    is_shared = True

    def __init__(self, config: Any) -> None:
        self.builder_data: dict = {}
        self.config = config
        self.required_parsets: dict = {}

    def append(self, key: str, channel: str, sample: str, thismod: dict | None, defined_samp: dict | None) -> None:
        entry = self.builder_data.setdefault(key, {}).setdefault(sample, {}).setdefault("data", {"bins": []})
        nbins = self.config.channel_nbins[channel]
        if thismod:
            terms = _terms_of(thismod)
            for _, powers in terms:
                for coef, _k in powers:
                    self.required_parsets.setdefault(coef, [_required_parset()])
        else:
            terms = [(1.0, ())]  # unsubscribed: factor 1
        entry["bins"] += [terms] * nbins

    def finalize(self) -> dict:
        return self.builder_data


class eftpoly_combined:  # noqa: N801
    """Applies every ``eftpoly`` modifier: returns factors of shape (n_mod, n_samples, batch, n_bins)."""

    name = EFT_MODIFIER_TYPE
    op_code = "multiplication"

    def __init__(self, modifiers: list, pdfconfig: Any, builder_data: dict | None, batch_size: int | None = None) -> None:
        self.batch_size = batch_size
        keys = [f"{mtype}/{m}" for m, mtype in modifiers]
        builder_data = builder_data or {}
        coefs = sorted(
            {c for key in keys for s in pdfconfig.samples for bin_terms in builder_data[key][s]["data"]["bins"] for _, p in bin_terms for c, _ in p}
        )
        self.coefficients = coefs
        shape = (batch_size, pdfconfig.npars) if batch_size else (pdfconfig.npars,)
        self.param_viewer = ParamViewer(shape, pdfconfig.par_map, coefs)
        # global list of monomials (exponent tuples over `coefs`), constant first
        index = {c: i for i, c in enumerate(coefs)}
        monomials: dict[tuple[int, ...], int] = {(0,) * len(coefs): 0}
        per_key = []
        for key in keys:
            rows = []
            for s in pdfconfig.samples:
                for bin_terms in builder_data[key][s]["data"]["bins"]:
                    row: dict[int, float] = {}
                    for scale, powers in bin_terms:
                        expo = [0] * len(coefs)
                        for c, k in powers:
                            expo[index[c]] += k
                        t = monomials.setdefault(tuple(expo), len(monomials))
                        row[t] = row.get(t, 0.0) + scale
                    rows.append(row)
            per_key.append(rows)
        self._monomials = list(monomials)
        n_samples, n_terms = len(pdfconfig.samples), len(self._monomials)
        n_bins = sum(pdfconfig.channel_nbins[c] for c in pdfconfig.channels)
        # scale tensor A[key, sample, term, bin]
        self._scales = [
            [[[rows[s * n_bins + b].get(t, 0.0) for b in range(n_bins)] for t in range(n_terms)] for s in range(n_samples)]
            for rows in per_key
        ]
        self._precompute()
        events.subscribe("tensorlib_changed")(self._precompute)

    def _precompute(self) -> None:
        if not self.param_viewer.index_selection:
            return
        tensorlib, _ = get_backend()
        self.scales = tensorlib.astensor(self._scales)

    def _monomial_values(self, coef_values: Any) -> Any:
        tensorlib, _ = get_backend()
        one = coef_values[0] * 0.0 + 1.0
        values = []
        for expo in self._monomials:
            v = one
            for j, k in enumerate(expo):
                for _ in range(k):
                    v = v * coef_values[j]
            values.append(v)
        return tensorlib.stack(values)

    def apply(self, pars: Any) -> Any:
        """Factors of shape (n_modifiers, n_global_samples, batch or 1, n_global_bins)."""
        if not self.param_viewer.index_selection:
            return None
        tensorlib, _ = get_backend()
        mono = self._monomial_values(self.param_viewer.get(pars))
        if self.batch_size is None:
            res = tensorlib.einsum("kstb,t->ksb", self.scales, mono)
            shape = tensorlib.shape(res)
            return tensorlib.reshape(res, (shape[0], shape[1], 1, shape[2]))
        return tensorlib.einsum("kstb,ta->ksab", self.scales, mono)


def eft_modifier_set() -> dict:
    """The HistFactory modifier set plus ``eftpoly``, for ``pyhf.Model(..., modifier_set=...)``."""
    return {EFT_MODIFIER_TYPE: (eftpoly_builder, eftpoly_combined), **pyhf.modifiers.histfactory_set}
