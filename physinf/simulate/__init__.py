"""Parton-level event generation and the EventSample record."""

from physinf.simulate.cuts import Cuts
from physinf.simulate.events import EventSample
from physinf.simulate.generator import DEFAULT_CUTS, generate

__all__ = ["Cuts", "EventSample", "generate", "DEFAULT_CUTS"]
