"""Parton-level event generation and the EventSample record.

``generate`` (one call) runs the stages of :mod:`physinf.simulate.generator` for a
:class:`GenerationConfig`; the result is an :class:`EventSample` carrying that config.
"""

from physinf.simulate.config import GenerationConfig
from physinf.simulate.eventfile import EventFile
from physinf.simulate.events import EventSample
from physinf.simulate.generator import generate, generate_from_config
from physinf.simulate.marginal import marginal_log_ratio, marginal_score, unlabelled_components
from physinf.simulate.model import ComponentModel
from theory.cuts import Cuts

__all__ = [
    "ComponentModel",
    "Cuts",
    "EventFile",
    "EventSample",
    "GenerationConfig",
    "generate",
    "generate_from_config",
    "marginal_log_ratio",
    "marginal_score",
    "unlabelled_components",
]


def __dir__() -> list[str]:
    return sorted(__all__)
