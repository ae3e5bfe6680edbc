"""resolve_device: "auto" follows torch's CUDA availability; explicit CUDA without a device is refused."""

from __future__ import annotations

import pytest
import torch

from physinf.errors import InvalidParameterError
from physinf.learn import resolve_device


def test_auto_device_follows_cuda_availability():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


def test_bad_devices_are_refused():
    with pytest.raises(InvalidParameterError, match="unknown device"):
        resolve_device("gpu0")
    with pytest.raises(InvalidParameterError, match="device must be a string"):
        resolve_device(0)  # type: ignore[arg-type]
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="no CUDA device"):
            resolve_device("cuda")
