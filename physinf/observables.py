"""Named observables computed from momenta (the ``x`` columns of an EventSample)."""

from __future__ import annotations

import numpy as np

from theory.errors import KinematicsError
from theory.kinematics import delta_phi_jj_signed, mandelstam, mass2, pseudorapidity, pt, rapidity

__all__ = ["wbf_observables", "pair_observables", "observables_for"]

M_HIGGS = 125.0


def pair_observables(a: np.ndarray, b: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """pT-ordered observables of two visible objects a, b (each (N, 4))."""
    swap = pt(b) > pt(a)
    lead = np.where(swap[:, None], b, a)
    sub = np.where(swap[:, None], a, b)
    return {
        f"pt_{prefix}1": pt(lead),
        f"pt_{prefix}2": pt(sub),
        f"eta_{prefix}1": pseudorapidity(lead),
        f"eta_{prefix}2": pseudorapidity(sub),
        f"y_{prefix}1": rapidity(lead),
        f"y_{prefix}2": rapidity(sub),
        f"m_{prefix}{prefix}": np.sqrt(np.maximum(mandelstam(lead, sub), 0.0)),
        f"delta_eta_{prefix}{prefix}": np.abs(pseudorapidity(lead) - pseudorapidity(sub)),
        f"delta_phi_{prefix}{prefix}": delta_phi_jj_signed(a, b),
    }


def wbf_observables(momenta: np.ndarray, m_higgs: float = M_HIGGS) -> dict[str, np.ndarray]:
    """Observables of p p -> j j H from momenta (N, 5, 4) ordered (pa, pb, p1, p2, pH).

    Jets are pT-ordered (j1 leading); delta_eta_jj = |eta_j1 - eta_j2|; delta_phi_jj is signed,
    phi(forward jet) - phi(backward jet) with jets ordered in rapidity (theory.kinematics);
    x_p1, x_p2 = pT/m_H (the dimensionless inputs of the seed-talk formula).
    """
    momenta = np.asarray(momenta, dtype=float)
    if momenta.ndim != 3 or momenta.shape[1:] != (5, 4):
        raise KinematicsError(f"WBF momenta must have shape (N, 5, 4) ordered (pa, pb, p1, p2, pH), got {momenta.shape}")
    obs = pair_observables(momenta[:, 2], momenta[:, 3], "j")
    obs["x_p1"] = obs["pt_j1"] / m_higgs
    obs["x_p2"] = obs["pt_j2"] / m_higgs
    obs["pt_h"] = pt(momenta[:, 4])
    obs["y_h"] = rapidity(momenta[:, 4])
    # invariant mass of the whole final state (= sqrt(s_hat) at parton level)
    obs["m_jjh"] = np.sqrt(np.maximum(mass2(momenta[:, 2] + momenta[:, 3] + momenta[:, 4]), 0.0))
    return obs


def observables_for(process_name: str, momenta: np.ndarray) -> dict[str, np.ndarray]:
    """The default observables of a process: jets for hadronic final states, pairs otherwise."""
    if process_name == "wbf":
        return wbf_observables(momenta)
    if momenta.shape[1] == 4:
        tag = "l" if process_name in ("ee_mumu", "drell_yan") else "j"
        return pair_observables(momenta[:, 2], momenta[:, 3], tag)
    if momenta.shape[1] == 5:
        return pair_observables(momenta[:, 2], momenta[:, 3], "j") | {"pt_j3": pt(momenta[:, 4])}
    return {}
