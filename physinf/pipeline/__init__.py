"""The run a user starts: one validated config -> stages (generate, detect, learn, distil, fit,
report), each cached by the hash of its inputs and config in a run folder, resumable after a kill."""

__all__: list[str] = []


def __dir__() -> list[str]:
    return sorted(__all__)
