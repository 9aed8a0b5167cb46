"""Fixtures shared by the Python client's tests: a demo PKI and a real broker."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from brokers import Broker, make_pki  # noqa: E402


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A fresh demo PKI per test module (tests that revoke or re-sign change it)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def broker(pki, tmp_path_factory):
    """A broker on that PKI, stopped after the module."""
    with Broker(tmp_path_factory.mktemp("broker"), pki) as running:
        yield running
