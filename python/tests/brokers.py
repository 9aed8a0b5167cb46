"""Real brokers and PKIs for the Python client's tests.

Everything a test needs it makes itself: a demo PKI made by the C++ CLI
(`tearline certs demo`, secret keys generated there and then) and a broker
process on tcp://127.0.0.1:<free port>, stopped when the test is done.
The binaries come from TEARLINE_CLI and TEARLINE_BROKER_BIN (ctest sets both),
or from TEARLINE_BUILD (default: build/ beside this source tree).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

SOURCE = Path(os.environ.get("TEARLINE_SOURCE") or Path(__file__).resolve().parents[2])
BUILD = Path(os.environ.get("TEARLINE_BUILD") or SOURCE / "build")
CLI = os.environ.get("TEARLINE_CLI") or str(BUILD / "client" / "tearline")
BROKER = os.environ.get("TEARLINE_BROKER_BIN") or str(BUILD / "broker" / "tearline-broker")

DEMO_NODES = [
    "diran-cucuta-commander", "diran-cucuta-analyst", "diran-bogota-hq", "dea-cucuta-agent",
    "dea-bogota-analyst", "fudra-lab-ops", "fgr-liaison",
]


def run_cli(*args: str, timeout: float = 30, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Runs the C++ `tearline` CLI; raises with its output when check and it fails."""
    done = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"tearline {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def make_pki(folder: Path) -> Path:
    """The demo world's PKI (certs/roster.toml) in folder/pki."""
    pki = folder / "pki"
    run_cli("certs", "demo", "--roster", str(SOURCE / "certs" / "roster.toml"), "--out", str(pki))
    return pki


class Broker:
    """A tearline-broker process on a free loopback port, with its own data folder."""

    def __init__(self, folder: Path, pki: Path, extra_toml: str = "") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.pki = pki
        self.config = folder / "broker.toml"
        self.log_path = folder / "broker.log"
        self.config.write_text(
            "[broker]\n"
            'endpoint = "tcp://127.0.0.1:*"\n'
            f'key_file = "{pki}/keys/broker.key"\n'
            f'directory = "{pki}/directory"\n'
            f'policy = "{SOURCE}/certs/policy.toml"\n'
            f'data_dir = "{folder}/data"\n' + extra_toml)
        self.process: subprocess.Popen | None = None
        self.endpoint = ""

    def start(self, timeout: float = 15) -> "Broker":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([BROKER, "--config", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = re.findall(r"event=started endpoint=(tcp://127\.0\.0\.1:\d+)", self.log())
            if started:
                self.endpoint = started[-1]
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"the broker did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> "Broker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
