"""Units and conversion factors, each in one place.

physinf works in GeV for energies and momenta, pb for cross sections and fb⁻¹ for integrated
luminosities. Names carry their unit: ``luminosity_fb`` is in fb⁻¹, ``luminosity_pb`` in pb⁻¹.

Expected events for σ = 2.5 pb at 300 fb⁻¹:

>>> round(2.5 * 300.0 * PB_PER_FB)
750000
"""

from __future__ import annotations

__all__ = ["GEV2_TO_PB", "PB_PER_FB"]

#: (ħc)² in pb GeV²: a cross section of 1 GeV⁻² is 0.3893793721 mb (PDG physical constants).
GEV2_TO_PB = 0.3893793721e9
#: 1 fb⁻¹ = 1000 pb⁻¹ (σ in pb times L in pb⁻¹ gives events).
PB_PER_FB = 1000.0
