"""physinf: from a Lagrangian with dimension-6 Wilson coefficients to a published likelihood."""

__version__ = "0.1.0"
