"""The result of one quality check, free of Dagster so the logic can be unit-tested on tiny frames.

A `CheckOutcome` carries only counts, shares and plain-language reasons: never an
identifier value, because check metadata is shown in the UI and kept in the event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "ERROR"
WARN = "WARN"


@dataclass(frozen=True)
class CheckOutcome:
    """What one check measured, against which threshold, and why it failed (if it did)."""

    name: str
    passed: bool
    measured: Any = None
    threshold: Any = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """One line for logs and reports: the reason on failure, else the measured value."""
        if not self.passed:
            return self.reason
        if "note" in self.details:
            return self.details["note"]
        if isinstance(self.measured, dict):
            return "passed: every measured value is within its threshold (see metadata)"
        return f"passed: measured {self.measured} (threshold {self.threshold})"


def not_applicable(name: str, why: str) -> CheckOutcome:
    """A check that cannot apply to this source passes, and says why in its metadata.

    Args:
        name: the check name.
        why: the plain-language reason it does not apply.

    Returns:
        A passing outcome with a `note` detail starting "not applicable".
    """
    return CheckOutcome(name=name, passed=True, details={"note": f"not applicable: {why}"})


@dataclass(frozen=True)
class CheckDef:
    """One check: its name, severity (ERROR checks are blocking) and what it promises."""

    name: str
    severity: str
    description: str
