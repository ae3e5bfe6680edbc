"""The parton-level fast detector in compiled loops: one pass per event over its few objects.

:func:`fused_measure` returns what ``measure(truth_objects(...), card, rng, parton_level=True)``
returns (objects per kind, sorted, and the losses by reason), restricted to the events that meet the
requirements as ``observe.observe_objects`` selects them, from the same random numbers: they are
drawn in the order and shapes the numpy path draws them (the normal ones by numba's Generator,
which yields numpy's very numbers three times faster), so for a seed the two paths keep the same
events with the same objects, equal to rounding (tests/physinf/test_detector_fused.py). The numpy
path stays the readable reference and the fallback (``PHYSINF_KERNEL_BACKEND=numpy``).

Why it is faster (2.2x for the whole ``FastDetector.apply`` on WBF, docs/benchmarks.md §5): the
numpy path makes a few hundred passes over padded (events x slots) arrays per chunk. Here one loop
builds the truth objects (and decays the Higgs), numpy's SIMD arcsinh and arctan2 give η and φ
(scalar libm is five times slower), a second loop gives every object its resolution and numpy's SIMD
log1p and exp turn whole rows into smearing factors, and a third loop clusters, isolates, smears,
accepts, tags, sorts and selects each event, writing the kept ones quantity by quantity so that every
observed column is a contiguous row. Directions are carried as (cos φ, sin φ, sinh η, cosh η) of the
truth four-vector and turned by the small smearing angles with short series, so the measured
four-vectors need no trigonometry. What the loops read and write is laid out so that one event's data
never lands in one L1 cache set (rows 2^k bytes apart did, and made the loop several times slower),
and the helpers that take arrays are called straight from the loops: numba counts references to the
arrays a helper receives unless it can inline the call and prune the counts, and those counts cost
more than the work (slicing a table row, passing arrays on to another helper, or an early return in
the efficiency look-up each tripled a step's cost).
"""

from __future__ import annotations

import math

import numpy as np

from physinf.detector.card import BinnedTable, CaloResolution, DetectorCard, TrackResolution
from physinf.detector.objects import (
    _KIND_TABLE,
    ELECTRON,
    JET,
    KIND_NAMES,
    KINDS,
    MUON,
    PHOTON,
    Collection,
    check_observable,
    kind_of_pdg,
)
from physinf.detector.response import ISOLATION, MERGED, NO_TRACK, OUTSIDE, REJECTED, lognormal_factor, loss_reason
from physinf.errors import InvalidParameterError

__all__ = ["available", "fused_measure"]

_LOOPS: dict | None = None
# where each kind is counted in _kind_loop's `present`
_PRESENT_INDEX = np.array([(JET, PHOTON, ELECTRON, MUON, -25, -1, 0, -99).index(k) for k in _KIND_TABLE], np.int64)
# per kind q (KINDS order), lost[1 + 4 q + reason]; lost[0]: jets merged by anti-kT
_ISOLATION, _NO_TRACK, _OUTSIDE, _REJECTED = 0, 1, 2, 3


def available() -> bool:
    """True when the compiled loops can run (numba installed and not switched off)."""
    return bool(_loops())


# ----------------------------------------------------------------------------- scalar helpers (compiled)
def _bin(edges, n_edges, row, x):
    """Index of the (lower, upper] bin of x among the n_edges[row] edges edges[row], the first bin
    closed; -1 outside (as card._bin_index). Tables are rows of one array, never slices or tuple
    items: those make new array objects, whose reference counting cost more than the lookup."""
    if x == edges[row, 0]:
        return 0
    k = -1
    for i in range(n_edges[row]):
        if edges[row, i] < x:
            k += 1
    return k if 0 <= k < n_edges[row] - 1 else -1


def _calo_relative(edges, n_edges, calo, k, energy, eta):
    """σ(E)/E of calorimeter k (0 jets, 1 photons, 2 electrons' ECAL); NaN outside its |η| range."""
    i = _bin(edges, n_edges, k, abs(eta))
    if i < 0:
        return math.nan
    e = max(energy, 0.0)
    s = ((calo[k, 3, i] + calo[k, 4, i] * (abs(eta) - calo[k, 5, i]) ** 2)
         * math.sqrt((calo[k, 0, i] * e) ** 2 + calo[k, 1, i] ** 2 * e + calo[k, 2, i] ** 2))
    return s / energy if energy != 0.0 else (math.nan if s == 0.0 else math.inf)


def _track_relative(edges, n_edges, track, k, pt, eta):
    """σ(p_T)/p_T of tracker k (0 electrons, 1 muons), capped at 1; NaN outside."""
    i = _bin(edges, n_edges, 3 + k, abs(eta))
    if i < 0:
        return math.nan
    return min(math.sqrt(track[k, 0, i] ** 2 + (track[k, 1, i] * pt) ** 2), 1.0)


def _combined(track, ecal):
    """An electron's σ(p_T)/p_T from its track and ECAL resolutions, with 1/σ² weights (either alone
    where the other is not finite)."""
    if math.isfinite(track) and math.isfinite(ecal):
        return 1.0 / math.sqrt(1.0 / track**2 + 1.0 / ecal**2)
    return track if math.isfinite(track) else ecal


def _energy(pt, cosh_eta, m):
    """E = sqrt(m² + (p_T cosh η)²)."""
    p = pt * cosh_eta
    return math.sqrt(m * m + p * p)


def _lognormal(rel, z):
    """response.lognormal_factor of one object; NaN where rel is not finite."""
    if not math.isfinite(rel):
        return math.nan
    s2 = math.log1p(rel * rel)
    return math.exp(math.sqrt(s2) * z - 0.5 * s2)


def _table(edges, n_edges, values, rolloff, t, pt, eta):
    """Binned efficiency t (0, 1 electron and muon tracking; 2, 3, 4 photon, electron, muon); 0
    outside. Written without an early return, which kept numba from pruning the reference counts of
    the arrays and tripled the cost."""
    ie, ip = _bin(edges, n_edges, 5 + t, abs(eta)), _bin(edges, n_edges, 10 + t, pt)
    inside = ie >= 0 and ip >= 0
    out = values[t, ie if inside else 0, ip if inside else 0] if inside else 0.0
    start, slope = rolloff[t, 0], rolloff[t, 1]
    if slope > 0 and pt > start:
        out *= math.exp(-slope * (pt - start))
    return out


def _tag(tags, r, pt):
    """Packed TagRate tags[r] (form 0 linear, 1 tanh-rational; a, b, c, d), clipped to [0, 1]."""
    if tags[r, 0] == 0:
        p = tags[r, 1] + tags[r, 2] * pt
    else:
        p = tags[r, 1] * math.tanh(tags[r, 2] * pt) * tags[r, 3] / (1.0 + tags[r, 4] * pt)
    return min(max(p, 0.0), 1.0)


# Taylor coefficients 1/k! (multiplications: a division by a constant costs the loop 15 cycles each)
_F2, _F3, _F4, _F5, _F6, _F7, _F8, _F9 = (1.0 / math.factorial(k) for k in range(2, 10))


def _cos_sin(d):
    """cos d, sin d; series below 0.1 (smearing angles), where the next terms are below 1e-17."""
    if abs(d) < 0.1:
        d2 = d * d
        return (1.0 - d2 * (_F2 - d2 * (_F4 - d2 * (_F6 - d2 * _F8))),
                d * (1.0 - d2 * (_F3 - d2 * (_F5 - d2 * (_F7 - d2 * _F9)))))
    return math.cos(d), math.sin(d)


def _cosh_sinh(d):
    if abs(d) < 0.1:
        d2 = d * d
        return (1.0 + d2 * (_F2 + d2 * (_F4 + d2 * (_F6 + d2 * _F8))),
                d * (1.0 + d2 * (_F3 + d2 * (_F5 + d2 * (_F7 + d2 * _F9)))))
    return math.cosh(d), math.sinh(d)


def _dr2(eta1, phi1, eta2, phi2):
    dphi = abs(phi1 - phi2)
    if dphi > math.pi:
        dphi = 2 * math.pi - dphi
    return (eta1 - eta2) ** 2 + dphi * dphi


def _direction(px, py, pz, pt):
    """(cos φ, sin φ, sinh η, cosh η) of a momentum with transverse momentum pt."""
    if pt > 0:
        return px / pt, py / pt, pz / pt, math.sqrt(pt * pt + pz * pz) / pt
    return 1.0, 0.0, 0.0, 1.0


# ----------------------------------------------------------------------------- loops (compiled)
def _normals(rng, out):
    """out[i] = rng.standard_normal() in order: numba's Generator draws numpy's ziggurat numbers, the
    very numbers rng.standard_normal(out=out) draws, three times faster (numpy: 12 ns per number here)."""
    for i in range(out.size):
        out[i] = rng.standard_normal()


def _kind_loop(pdg, final, table, where, kinds, present):
    """Kind of each final-state particle (objects.kind_of_pdg's table: table[min(|PDG|, 99)]) into
    kinds (N, F), and per slot the count of each (present (F, 8) at where[|PDG|]: jet, photon,
    electron, muon, Higgs, invisible, padding, unsupported)."""
    top = table.size - 1
    for n in range(kinds.shape[0]):
        for j in range(final.size):
            a = min(abs(pdg[n, final[j]]), top)
            kinds[n, j] = table[a]
            present[j, where[a]] += 1


def _truth_loop(momenta, pdg, final, col_slot, col_role, col_kind, slot_kind, decay_cos, decay_phi, decay_start, comp, kin, tid):
    """Fill the truth columns (comp: (E, p_x, p_y, p_z) x (N, C); tid (N, C, 2): valid, PDG id) from the parton
    record; a Higgs slot (role 1, its second photon role 2) decays with the next pre-drawn (cos θ*, φ*)
    of its slot; kin gets p_T, p_z/p_T (for η), -, m. Returns -1, or the event whose Higgs is not
    time-like."""
    n_events, n_cols = tid.shape[0], col_slot.size
    used = decay_start.copy()
    for n in range(n_events):
        for c in range(n_cols):
            j = col_slot[c]
            i = final[j]
            kind = slot_kind[n, j]
            role = col_role[c]
            if role == 0:
                ok = kind == col_kind[c]
                tid[n, c, 0] = ok
                tid[n, c, 1] = pdg[n, i] if ok else 0
                for r in range(4):
                    comp[r, n, c] = momenta[n, i, r]
            elif role == 1:
                ok = kind == -25
                tid[n, c, 0] = ok
                tid[n, c + 1, 0] = ok
                tid[n, c, 1] = 0
                tid[n, c + 1, 1] = 0
                if not ok:
                    for r in range(4):
                        comp[r, n, c] = 0.0
                        comp[r, n, c + 1] = 0.0
                    continue
                e, px, py, pz = momenta[n, i, 0], momenta[n, i, 1], momenta[n, i, 2], momenta[n, i, 3]
                m2 = e * e - (px * px + py * py + pz * pz)
                if not m2 > 0:
                    return n
                m = math.sqrt(m2)
                k = used[j]
                used[j] += 1
                cos_t = decay_cos[k]
                sin_t = math.sqrt(1.0 - cos_t * cos_t)
                half = m / 2
                kx, ky, kz = half * sin_t * math.cos(decay_phi[k]), half * sin_t * math.sin(decay_phi[k]), half * cos_t
                bx, by, bz = px / e, py / e, pz / e
                gamma = e / m
                b2 = bx * bx + by * by + bz * bz
                bk = bx * kx + by * ky + bz * kz
                c1 = (gamma - 1) * bk / (b2 if b2 > 0 else 1.0)
                s1, s2 = c1 + gamma * half, -c1 + gamma * half
                comp[0, n, c], comp[1, n, c], comp[2, n, c], comp[3, n, c] = gamma * (half + bk), kx + s1 * bx, ky + s1 * by, kz + s1 * bz
                comp[0, n, c + 1], comp[1, n, c + 1] = gamma * (half - bk), -kx + s2 * bx
                comp[2, n, c + 1], comp[3, n, c + 1] = -ky + s2 * by, -kz + s2 * bz
        for c in range(n_cols):
            e, px, py, pz = comp[0, n, c], comp[1, n, c], comp[2, n, c], comp[3, n, c]
            pt = math.sqrt(px * px + py * py)
            kin[0, n, c] = pt
            kin[1, n, c] = pz / pt if pt > 0 else (0.0 if pz == 0 else math.copysign(math.inf, pz))
            kin[3, n, c] = math.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0))
    return -1


def _resolution_loop(kin, comp, offsets, starts, edges, n_edges, calo, track, par, rel):
    """The relative resolution of every truth object, into rel at its place in the rows of
    smearing draws (rel[starts[q, 1] + s]), NaN where not finite: response.lognormal_factor then turns
    whole rows into smearing factors with numpy's SIMD log1p and exp (six times faster than one object at a
    time, whose chain of square roots, divisions, log and exp the CPU cannot overlap)."""
    n_events, electron_ecal = kin.shape[1], par[21] > 0
    for q in range(4):
        width = offsets[q + 1] - offsets[q]
        for n in range(n_events):
            for c in range(offsets[q], offsets[q + 1]):
                pt, eta, m = kin[0, n, c], kin[1, n, c], kin[3, n, c]
                energy = _energy(pt, _direction(comp[1, n, c], comp[2, n, c], comp[3, n, c], pt)[3], m)
                # (helpers taking arrays are called from here, not through another helper: each call
                # that numba does not inline counts references to its arrays, which cost more than the work)
                if q < 2:  # σ(E)/E of the jet and photon calorimeters
                    r = _calo_relative(edges, n_edges, calo, q, energy, eta)
                else:  # σ(p_T)/p_T of the trackers; electrons' combined with their ECAL's
                    r = _track_relative(edges, n_edges, track, q - 2, pt, eta)
                    if q == 2 and electron_ecal:
                        r = _combined(r, _calo_relative(edges, n_edges, calo, 2, energy, eta))
                rel[starts[q, 1] + n * width + c - offsets[q]] = r if math.isfinite(r) else math.nan


def _response_loop(kin, comp, tid, offsets, draws, factor, starts, edges, n_edges, calo, values, rolloff, tags, par, req, out,
                   out_flags, summary, keep, passed, lost):
    """Per event: anti-kT of the jets, isolation, then per kind tracking, smearing, acceptance,
    efficiency and b-tags, sorted by p_T (see physinf.detector.response for the steps); then the
    requirements req (rows: kinds bit mask, charge or 0, count). Kept events are written in order to
    out (p_T, η, φ, m, E, p_x, p_y, p_z per object), out_flags (valid, charge, flavour, b-tag) and
    summary (objects per kind, H_T, and minus the sums of p_x and p_y: observe.summary_columns's sums, in its order);
    keep (N,) says which; passed[r]: events meeting requirements 0..r. Returns the number kept.
    factor: the smearing factors of the truth objects, laid out as the smearing draws (_resolution_loop);
    jets that anti-kT changed get theirs anew.
    Every array is event-major (one event's objects in neighbouring cache lines): per-slot rows of
    2^k bytes alias in the L1 cache and made this loop several times slower."""
    n_events, n_cols = tid.shape[0], tid.shape[1]
    r_jet, jet_pt_min, jet_eta_max = par[0], par[1], par[2]
    parton_pt_min, parton_eta_max = par[3], par[4]
    lp, le, lf, lm = np.empty(n_cols), np.empty(n_cols), np.empty(n_cols), np.empty(n_cols)
    cp, sp, sh, ch = np.empty(n_cols), np.empty(n_cols), np.empty(n_cols), np.empty(n_cols)
    ok = np.empty(n_cols, np.bool_)
    fail = np.empty(n_cols, np.bool_)
    flav = np.zeros(n_cols, np.int8)
    charge = np.zeros(n_cols, np.int8)
    tagged = np.zeros(n_cols, np.bool_)
    pv = np.zeros((n_cols, 4))
    order = np.empty(n_cols, np.int64)
    kept = 0
    for n in range(n_events):
        for c in range(n_cols):
            lp[c], le[c], lf[c], lm[c], ok[c] = kin[0, n, c], kin[1, n, c], kin[2, n, c], kin[3, n, c], tid[n, c, 0] != 0
            cp[c], sp[c], sh[c], ch[c] = _direction(comp[1, n, c], comp[2, n, c], comp[3, n, c], lp[c])
            pid = tid[n, c, 1]
            a = abs(pid)
            flav[c] = 0
            charge[c] = 0
            if c < offsets[1]:
                if ok[c] and (a == 4 or a == 5) and lp[c] > parton_pt_min and abs(le[c]) < parton_eta_max:
                    flav[c] = a
            elif c >= offsets[2] and ok[c]:
                charge[c] = -1 if pid > 0 else (1 if pid < 0 else 0)
        # anti-kT, only in events with two jet partons closer than R (otherwise it merges nothing)
        j0, j1 = offsets[0], offsets[1]
        close = False
        for i in range(j0, j1):
            for j in range(i + 1, j1):
                if ok[i] and ok[j] and _dr2(le[i], lf[i], le[j], lf[j]) < r_jet * r_jet:
                    close = True
        if close:
            lost[0] += _cluster(lp, le, lf, lm, ok, flav, pv, j0, j1, r_jet)
            for c in range(j0, j1):
                cp[c], sp[c], sh[c], ch[c] = _direction(pv[c, 1], pv[c, 2], pv[c, 3], lp[c])
        # isolation of photons and leptons against every other visible object (validity before isolation)
        for q in range(1, 4):
            dr2, pmin, ratio = par[5 + 3 * q] ** 2, par[6 + 3 * q], par[7 + 3 * q]
            for i in range(offsets[q], offsets[q + 1]):
                total = 0.0
                for j in range(n_cols):
                    if j != i and ok[j] and lp[j] > pmin and _dr2(le[i], lf[i], le[j], lf[j]) < dr2:
                        total += lp[j]
                fail[i] = ok[i] and total > ratio * lp[i]
        for q in range(1, 4):
            for i in range(offsets[q], offsets[q + 1]):
                if fail[i]:
                    lost[1 + 4 * q + _ISOLATION] += 1
                    ok[i] = False
        # the response, kind by kind
        for q in range(4):
            angular = par[17 + q]
            width = offsets[q + 1] - offsets[q]
            for c in range(offsets[q], offsets[q + 1]):
                s = n * width + c - offsets[q]  # this object's place in the kind's rows of random numbers
                v = ok[c]
                if q >= 2:  # leptons: tracking efficiency on the true kinematics
                    t = q - 2  # tracking tables: 0 electrons, 1 muons
                    if v and not draws[starts[q, 0] + s] < _table(edges, n_edges, values, rolloff, t, lp[c], le[c]):
                        lost[1 + 4 * q + _NO_TRACK] += 1
                        v = False
                if q == 0 and close:  # jets of an event anti-kT changed
                    energy = _energy(lp[c], ch[c], lm[c])
                    f = _lognormal(_calo_relative(edges, n_edges, calo, 0, energy, le[c]), draws[starts[q, 1] + s])
                else:
                    f = factor[starts[q, 1] + s]
                if v and not math.isfinite(f):  # outside the instrumented region
                    lost[1 + 4 * q + _OUTSIDE] += 1
                    v = False
                tagged[c] = False
                if not v:  # a lost object's values are never read again: everything below asks ok first
                    ok[c] = False
                    continue
                p_new, m_new = lp[c] * f, lm[c] * f
                if angular > 0:
                    de, dp = angular * draws[starts[q, 2] + s], angular * draws[starts[q, 3] + s]
                    chd, shd = _cosh_sinh(de)
                    sh_new, ch_new = sh[c] * chd + ch[c] * shd, ch[c] * chd + sh[c] * shd
                    p_new = p_new * ch[c] / ch_new
                    sh[c], ch[c] = sh_new, ch_new
                    le[c] = le[c] + de
                    cd, sd = _cos_sin(dp)
                    cp[c], sp[c] = cp[c] * cd - sp[c] * sd, sp[c] * cd + cp[c] * sd
                    f_new = lf[c] + dp
                    lf[c] = f_new - 2 * math.pi if f_new > math.pi else (f_new + 2 * math.pi if f_new <= -math.pi else f_new)
                lp[c], lm[c] = p_new, m_new
                if q == 0:
                    if not (p_new > jet_pt_min and abs(le[c]) < jet_eta_max):
                        lost[1 + _REJECTED] += 1
                        v = False
                    else:
                        rate = 0 if flav[c] == 5 else (1 if flav[c] == 4 else 2)
                        tagged[c] = draws[starts[q, 4] + s] < _tag(tags, rate, p_new)
                else:
                    t = 1 + q  # efficiency tables: 2 photons, 3 electrons, 4 muons
                    if not draws[starts[q, 4] + s] < _table(edges, n_edges, values, rolloff, t, p_new, le[c]):
                        lost[1 + 4 * q + _REJECTED] += 1
                        v = False
                ok[c] = v
        # sort each kind by decreasing p_T, lost slots last (stable)
        for q in range(4):
            a, b = offsets[q], offsets[q + 1]
            if b - a == 2:  # without branches: the order of two objects is a coin toss the CPU mispredicts
                first, second = ok[a + 1], ok[a]
                swap = int((first & second & (lp[a + 1] > lp[a])) | (first & ~second))
                order[a], order[a + 1] = a + swap, a + 1 - swap
                continue
            for c in range(a, b):
                order[c] = c
            for c in range(a + 1, b):
                key = order[c]
                k = c
                while k > a and _before(ok, lp, key, order[k - 1]):
                    order[k] = order[k - 1]
                    k -= 1
                order[k] = key
        # the requirements, in order; a kept event is written to the next row
        keep[n] = True
        for r in range(req.shape[0]):
            count = 0
            for q in range(4):
                if req[r, 0] >> q & 1:
                    for c in range(offsets[q], offsets[q + 1]):
                        if ok[c] and (req[r, 1] == 0 or charge[c] == req[r, 1]):
                            count += 1
            if count < req[r, 2]:
                keep[n] = False
                break
            passed[r] += 1
        if not keep[n]:
            continue
        ht = mex = mey = 0.0
        for q in range(4):
            count = 0
            for c in range(offsets[q], offsets[q + 1]):
                src = order[c]
                if ok[src]:
                    p, pz = lp[src], lp[src] * sh[src]
                    px, py = p * cp[src], p * sp[src]
                    out[0, c, kept], out[1, c, kept], out[2, c, kept], out[3, c, kept] = p, le[src], lf[src], lm[src]
                    out[4, c, kept] = math.sqrt(p * p + pz * pz + lm[src] * lm[src])
                    out[5, c, kept], out[6, c, kept], out[7, c, kept] = px, py, pz
                    out_flags[0, c, kept], out_flags[1, c, kept], out_flags[2, c, kept], out_flags[3, c, kept] = (
                        1, charge[src], flav[src], tagged[src])
                    count += 1
                    mex -= px
                    mey -= py
                    if q == 0:
                        ht += p
                else:
                    for r in range(8):
                        out[r, c, kept] = 0.0
                    for r in range(4):
                        out_flags[r, c, kept] = 0
            summary[q, kept] = count
        summary[4, kept], summary[5, kept], summary[6, kept] = ht, mex, mey
        kept += 1
    return kept


def _before(ok, pt, i, j):
    """Slot i sorts before slot j: valid before lost, then larger p_T (ties keep their order)."""
    if ok[i] and ok[j]:
        return pt[i] > pt[j]
    return ok[i] and not ok[j]


def _pt_eta_phi_m(px, py, pz, e):
    pt = math.hypot(px, py)
    if pt > 0:
        eta = math.asinh(pz / pt)
    else:
        eta = 0.0 if pz == 0 else math.copysign(math.inf, pz)
    return pt, eta, math.atan2(py, px), math.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0))


def _cluster(lp, le, lf, lm, ok, flav, pv, j0, j1, radius):
    """Exact anti-kT (E-scheme) of one event's jet slots [j0, j1), in place; the number of merges
    (physinf.detector.objects.cluster_antikt, written for one event)."""
    r2 = radius * radius
    active = np.zeros(j1 - j0, np.bool_)
    for c in range(j0, j1):
        if ok[c]:
            p, pz = lp[c], lp[c] * math.sinh(le[c])
            pv[c, 1], pv[c, 2], pv[c, 3] = p * math.cos(lf[c]), p * math.sin(lf[c]), pz
            pv[c, 0] = math.sqrt(p * p + pz * pz + lm[c] * lm[c])
            active[c - j0] = True
        else:
            pv[c, 0] = pv[c, 1] = pv[c, 2] = pv[c, 3] = 0.0
    merges = 0
    while active.sum() >= 2:
        for c in range(j0, j1):
            lp[c], le[c], lf[c], lm[c] = _pt_eta_phi_m(pv[c, 1], pv[c, 2], pv[c, 3], pv[c, 0])
        best, bi, bj = math.inf, -1, -1
        for c in range(j0, j1):  # beam distances first, then pairs in order, as the numpy argmin
            if active[c - j0]:
                d = 1.0 / max(lp[c] * lp[c], 1e-300)
                if d < best:
                    best, bi, bj = d, c, -1
        for i in range(j0, j1):
            for j in range(i + 1, j1):
                if active[i - j0] and active[j - j0]:
                    d = min(1.0 / max(lp[i] * lp[i], 1e-300), 1.0 / max(lp[j] * lp[j], 1e-300)) * _dr2(le[i], lf[i], le[j], lf[j]) / r2
                    if d < best:
                        best, bi, bj = d, i, j
        if bj < 0:
            active[bi - j0] = False
        else:
            merges += 1
            for r in range(4):
                pv[bi, r] += pv[bj, r]
                pv[bj, r] = 0.0
            flav[bi] = max(flav[bi], flav[bj])
            flav[bj] = 0
            ok[bj] = False
            active[bj - j0] = False
    for c in range(j0, j1):
        lp[c], le[c], lf[c], lm[c] = _pt_eta_phi_m(pv[c, 1], pv[c, 2], pv[c, 3], pv[c, 0])
    return merges


def _loops() -> dict:
    global _LOOPS
    if _LOOPS is None:
        from theory.processes._compile import kernel_backend

        _LOOPS = {}
        if kernel_backend() == "numba":
            from numba import njit

            jit = njit(cache=True, nogil=True, error_model="numpy")
            g = globals()
            for name in ("_bin", "_calo_relative", "_track_relative", "_combined", "_energy", "_lognormal", "_table", "_tag", "_cos_sin",
                         "_cosh_sinh", "_dr2", "_direction", "_before", "_pt_eta_phi_m", "_cluster"):
                g[name] = jit(g[name])
            _LOOPS = {"normals": jit(_normals), "kinds": jit(_kind_loop), "truth": jit(_truth_loop),
                      "resolution": jit(_resolution_loop), "response": jit(_response_loop)}
    return _LOOPS


# ----------------------------------------------------------------------------- the card as arrays
def pack_card(card: DetectorCard) -> tuple:
    """The card's numbers in the arrays the response loop reads: bin edges (rows: calorimeters of
    jets, photons, electrons; trackers of electrons, muons; the five efficiency tables' |η| edges,
    then their p_T edges; +inf padded) and their counts, calorimeter (a, b, c, f0, f2, η0) and
    tracker (a, b) parameters per bin, table values and roll-offs, b-tag rates, scalars (par: jet
    radius, p_T min and |η| max, b-tag parton p_T min and |η| max; at 5 + 3 q the isolation ΔR, p_T
    min and ratio of kind q (KINDS order, jets unused); at 17 + q the angular resolutions; at 21
    whether electrons have an ECAL resolution)."""
    tables: list[BinnedTable] = [card.electrons.tracking_efficiency, card.muons.tracking_efficiency, card.photons.efficiency,
                                 card.electrons.efficiency, card.muons.efficiency]
    calos: list[CaloResolution | None] = [card.jets.energy_resolution, card.photons.energy_resolution,
                                          card.electrons.energy_resolution]
    tracks: list[TrackResolution] = [card.electrons.momentum_resolution, card.muons.momentum_resolution]
    rows = ([c.abs_eta_edges if c is not None else (0.0, 0.0) for c in calos] + [t.abs_eta_edges for t in tracks]
            + [t.abs_eta_edges for t in tables] + [t.pt_edges for t in tables])
    width = max(len(r) for r in rows)
    edges = np.full((len(rows), width), np.inf)
    for i, row in enumerate(rows):
        edges[i, : len(row)] = row
    n_edges = np.array([len(row) for row in rows], np.int64)
    calo = np.zeros((3, 6, width))
    for k, c in enumerate(calos):
        if c is not None:
            for r, params in enumerate((c.a, c.b, c.c, c.f0, c.f2, c.eta0)):
                calo[k, r, : len(params)] = params
    track = np.zeros((2, 2, width))
    for k, tr in enumerate(tracks):
        track[k, 0, : len(tr.a)], track[k, 1, : len(tr.b)] = tr.a, tr.b
    values = np.zeros((len(tables), width, width))
    for k, table in enumerate(tables):
        v = np.asarray(table.values, dtype=np.float64)
        values[k, : v.shape[0], : v.shape[1]] = v
    rolloff = np.array([[t.rolloff_pt, t.rolloff_slope] for t in tables])
    tags = np.array([[0.0 if rate.form == "linear" else 1.0, rate.a, rate.b, rate.c, rate.d]
                     for rate in (card.btag.b, card.btag.c, card.btag.light)])
    iso = [(0.0, 0.0, 0.0)] + [(k.isolation.delta_r, k.isolation.pt_min, k.isolation.max_ratio)
                               for k in (card.photons, card.electrons, card.muons)]
    par = np.array([card.jets.radius, card.jets.pt_min, card.jets.abs_eta_max, card.btag.parton_pt_min,
                    card.btag.parton_abs_eta_max, *np.ravel(iso),
                    card.jets.angular_resolution, card.photons.angular_resolution, card.electrons.angular_resolution,
                    card.muons.angular_resolution, 1.0 if card.electrons.energy_resolution is not None else 0.0])
    return edges, n_edges, calo, track, values, rolloff, tags, par


# ----------------------------------------------------------------------------- driver
def _columns(present: np.ndarray) -> dict[int, list[tuple[int, int]]]:
    """Columns per kind as truth_objects makes them, from the kinds present in each final slot
    (_kind_loop): (final slot, role 0 direct or 1, 2 the photons of a Higgs), in slot order."""
    cols: dict[int, list[tuple[int, int]]] = {k: [] for k in KINDS}
    for j in range(present.shape[0]):
        for where, code in enumerate((JET, PHOTON, ELECTRON, MUON)):
            if present[j, where]:
                cols[code].append((j, 0))
        if present[j, 4]:
            cols[PHOTON] += [(j, 1), (j, 2)]
    return cols


def _rows(count: int, width: int, dtype: type = np.float64) -> np.ndarray:
    """count rows of width numbers as one (count, width) array whose rows start a few cache lines
    apart modulo 4 kB: a loop over events that reads or writes one number per row would otherwise
    find all its rows in the same L1 cache set (see _response_loop)."""
    size = np.dtype(dtype).itemsize
    stride = (width * size + 192 + 63) // 64 * 64  # 3 lines past a multiple of 4 kB: 64 rows in 64 different sets
    buf: np.ndarray = np.empty(count * stride // size + width, dtype)
    return np.lib.stride_tricks.as_strided(buf, shape=(count, width), strides=(stride, size))


def fused_measure(momenta: np.ndarray, pdg: np.ndarray, final: list[int], rng: np.random.Generator, card: DetectorCard,
                  packed: tuple, requirements: tuple[tuple[str, int], ...]
                  ) -> tuple[dict[int, Collection], dict[str, int], np.ndarray, tuple[int, ...], dict[str, np.ndarray]]:
    """Measured objects of the events that meet ``requirements`` and the losses by reason, as
    ``measure(truth_objects(momenta, pdg, final, rng, ...), card, rng, parton_level=True)`` followed by
    the selection of observe_objects; also the kept mask (N,), the events remaining after each
    requirement, and the summary columns of the kept events (observe.summary_columns: object counts,
    H_T, missing p_T). ``packed``: :func:`pack_card` of the card."""
    loops = _loops()
    n = len(momenta)
    pdg = np.ascontiguousarray(pdg, dtype=np.int64)
    final_idx = np.asarray(final, np.int64)
    kinds = np.empty((n, len(final)), np.int64)
    present = np.zeros((len(final), 8), np.int64)
    loops["kinds"](pdg, final_idx, _KIND_TABLE, _PRESENT_INDEX, kinds, present)
    if present[:, 7].any():
        check_observable(kind_of_pdg(pdg[:, final]), pdg, final)
    cols = _columns(present)
    # the numpy path's random numbers, in its order: the decays slot by slot, then kind by kind
    decay_cos, decay_phi, decay_start = [], [], np.zeros(len(final), np.int64)
    start = 0
    for j in range(len(final)):
        if present[j, 4]:
            decay_start[j] = start
            start += int(present[j, 4])
            decay_cos.append(rng.uniform(-1.0, 1.0, int(present[j, 4])))
            decay_phi.append(rng.uniform(-np.pi, np.pi, int(present[j, 4])))
    angular = {JET: card.jets.angular_resolution, PHOTON: card.photons.angular_resolution,
               ELECTRON: card.electrons.angular_resolution, MUON: card.muons.angular_resolution}
    shapes = [(n, len(cols[code])) for code in KINDS]
    buf, starts, draws = _draw_buffers(shapes)
    for code, d, (_, k) in zip(KINDS, draws, shapes):
        if n * k:
            if code in (ELECTRON, MUON):
                rng.random(out=d[0])
            loops["normals"](rng, d[1].reshape(-1))
            if angular[code] > 0:
                loops["normals"](rng, d[2].reshape(-1))
                loops["normals"](rng, d[3].reshape(-1))
            rng.random(out=d[4])
    order = [(code, j, role) for code in KINDS for j, role in cols[code]]
    offsets = np.cumsum([0] + [len(cols[code]) for code in KINDS])
    n_cols = len(order)
    comp = _rows(4, n * n_cols).reshape(4, n, n_cols)
    kin = _rows(4, n * n_cols).reshape(4, n, n_cols)
    tid = np.empty((n, n_cols, 2), np.int64)
    bad = loops["truth"](np.ascontiguousarray(momenta, dtype=float), pdg, final_idx, np.array([o[1] for o in order], np.int64),
                         np.array([o[2] for o in order], np.int64), np.array([o[0] for o in order], np.int64), kinds,
                         np.concatenate(decay_cos) if decay_cos else np.zeros(0),
                         np.concatenate(decay_phi) if decay_phi else np.zeros(0), decay_start, comp, kin, tid)
    if bad >= 0:
        raise InvalidParameterError("a decaying particle has a non-positive mass squared; its momentum is not time-like "
                                    f"(event {bad} of the chunk)")
    # p_T, η, φ, m as objects.pt_eta_phi_m: the loop made p_T, m and p_z/p_T (±inf along the beam),
    # numpy's SIMD arcsinh and arctan2 beat scalar libm on these contiguous rows
    np.arcsinh(kin[1], out=kin[1])
    np.arctan2(comp[2], comp[1], out=kin[2])
    # kept events, quantity by quantity (rows: p_T, η, φ, m, E, p_x, p_y, p_z; valid, charge, flavour,
    # b-tag) and object by object: every column of the observed sample is then a contiguous row
    out = _rows(8 * n_cols, n).reshape(8, n_cols, n)
    flags = _rows(4 * n_cols, n, np.int8).reshape(4, n_cols, n)
    keep = np.empty(n, bool)
    passed = np.zeros(len(requirements), np.int64)
    lost = np.zeros(17, np.int64)
    # smearing factors of every truth object, row by row with numpy's SIMD log1p and exp
    factor = np.empty_like(buf)
    edges, n_edges, calo, track, values, rolloff, tags, par = packed
    loops["resolution"](kin, comp, offsets, starts, edges, n_edges, calo, track, par, factor)
    for q, (_, k) in enumerate(shapes):
        row = slice(starts[q, 1], starts[q, 1] + n * k)
        factor[row] = lognormal_factor(factor[row], buf[row])
    summary = _rows(7, n)
    kept = loops["response"](kin, comp, tid, offsets, buf, factor, starts, edges, n_edges, calo, values, rolloff, tags, par,
                             _requirement_table(requirements), out, flags, summary, keep, passed, lost)
    objects = {}
    for q, code in enumerate(KINDS):
        a, b = offsets[q], offsets[q + 1]
        if a == b:
            objects[code] = Collection.empty(kept, 0)
            continue
        o, g = out[:, a:b, :kept].transpose(2, 1, 0), flags[:, a:b, :kept].transpose(2, 1, 0)  # (kept, K, quantity)
        objects[code] = Collection(o[..., 0], o[..., 1], o[..., 2], o[..., 3], g[..., 0].view(bool), g[..., 1], g[..., 2],
                                   g[..., 3].view(bool), o[..., 4:])
    columns = {f"n_{KIND_NAMES[code]}": summary[q, :kept] for q, code in enumerate(KINDS)}
    mex, mey = summary[5, :kept], summary[6, :kept]
    columns |= {"ht": summary[4, :kept], "met": np.hypot(mex, mey), "met_phi": np.arctan2(mey, mex)}
    return objects, _lost(lost, card), keep, tuple(int(p) for p in passed), columns


def _requirement_table(requirements: tuple[tuple[str, int], ...]) -> np.ndarray:
    """Rows (kinds bit mask over KINDS, charge or 0, count) of the requirements (observe.REQUIREMENT_KEYS)."""
    bits = {KIND_NAMES[code]: 1 << q for q, code in enumerate(KINDS)}
    bits["leptons"] = bits[KIND_NAMES[ELECTRON]] | bits[KIND_NAMES[MUON]]
    table = np.zeros((len(requirements), 3), np.int64)
    for r, (key, count) in enumerate(requirements):
        base, sign = key.rstrip("+-"), key[len(key.rstrip("+-")):]
        table[r] = bits[base], (1 if sign == "+" else -1) if sign else 0, count
    return table


def _draw_buffers(shapes: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, list[list[np.ndarray]]]:
    """One buffer for the random numbers: per kind five rows (tracking, smearing, η, φ, efficiency)
    of N x K numbers, each row contiguous for the generator and starting a few cache lines apart
    modulo 4 kB (see _response_loop). Returns the buffer, the start of each row (kinds x 5) and the
    rows as (N, K) arrays."""
    starts = np.zeros((len(shapes), 5), np.int64)
    position = 0
    for q, (n, k) in enumerate(shapes):
        for r in range(5):
            starts[q, r] = position
            position += n * k + 24
    buf = np.empty(position)
    rows = [[buf[starts[q, r]:starts[q, r] + n * k].reshape(n, k) for r in range(5)] for q, (n, k) in enumerate(shapes)]
    return buf, starts, rows


def _lost(counts: np.ndarray, card: DetectorCard) -> dict[str, int]:
    """The losses by reason under the numpy path's names (response.loss_reason), in its order."""
    slots = [(0, JET, MERGED)] + [(1 + 4 * q + _ISOLATION, code, ISOLATION) for q, code in enumerate(KINDS) if code != JET]
    for q, code in enumerate(KINDS):
        slots += [(1 + 4 * q + _NO_TRACK, code, NO_TRACK)] if code in (ELECTRON, MUON) else []
        slots += [(1 + 4 * q + _OUTSIDE, code, OUTSIDE), (1 + 4 * q + _REJECTED, code, REJECTED)]
    return {loss_reason(code, reason, card): int(counts[i]) for i, code, reason in slots if counts[i]}
