"""Parton-level event generation and the EventSample record."""

from physinf.simulate.cuts import Cuts
from physinf.simulate.events import EventSample
from physinf.simulate.generator import DEFAULT_CUTS, generate
from physinf.simulate.marginal import marginal_score, unlabelled_components

__all__ = ["Cuts", "EventSample", "generate", "DEFAULT_CUTS", "marginal_score", "unlabelled_components"]
