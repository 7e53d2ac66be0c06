"""`kb eval` and `kb bench` commands."""

from __future__ import annotations

import argparse
from typing import Any


def add_eval_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register eval/bench subcommands (filled in by the measurement issue)."""
