"""What the fault suite found, fault by fault, and the one summary line it prints at the end.

Every fault test appends one ``FaultRecord``; ``tests/faults/conftest.py`` prints the table (with
``-v``, or when a fault was not survived) and the summary line, and fails the session unless lost
objects, wrong deactivations, duplicates, requests over the bound and secret leaks are all 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_SEED = 5


def suite_seed() -> int:
    """The seed of the companies and of the day's HR changes: ``FAULT_SEED=7 pytest tests/faults`` reruns another."""
    return int(os.environ.get("FAULT_SEED", DEFAULT_SEED))


@dataclass
class Requests:
    """Requests one side received during the faulty run, and the most this fault allows."""

    sent: int
    bound: int

    @property
    def over(self) -> bool:
        return self.sent > self.bound

    def __str__(self) -> str:
        return f"{self.sent}/{self.bound}" + (" OVER" if self.over else "")


@dataclass
class FaultRecord:
    name: str
    outcome: str = "not run"  # e.g. "Failed (Transient)"
    expected: str = ""
    status: str = ""  # the operator's status, where an operator took part
    requests: dict[str, Requests] = field(default_factory=dict)  # "personio", "app", "app writes", ...
    lost: int = 0
    wrong_deactivations: int = 0
    duplicates: int = 0
    leaks: int = 0
    problems: list[str] = field(default_factory=list)  # why it was not survived, in words

    @property
    def over_bound(self) -> int:
        return sum(1 for requests in self.requests.values() if requests.over)

    @property
    def survived(self) -> bool:
        return not self.problems and not self.bad_counts()

    def bad_counts(self) -> list[str]:
        counts = {
            "objects lost": self.lost,
            "wrong deactivations": self.wrong_deactivations,
            "duplicates": self.duplicates,
            "requests over the bound": self.over_bound,
            "secret leaks": self.leaks,
        }
        return [f"{name} {count}" for name, count in counts.items() if count]

    def line(self) -> str:
        requests = ", ".join(f"{side} {requests}" for side, requests in self.requests.items())
        verdict = "survived" if self.survived else "NOT SURVIVED: " + "; ".join(self.bad_counts() + self.problems)
        status = f" status: {self.status};" if self.status else ""
        return f"{self.name}: run {self.outcome} (expected {self.expected});{status} requests {requests}; {verdict}"


@dataclass
class FaultLedger:
    records: list[FaultRecord] = field(default_factory=list)

    def add(self, record: FaultRecord) -> FaultRecord:
        self.records.append(record)
        return record

    def totals(self) -> dict[str, int]:
        return {
            "faults injected": len(self.records),
            "survived": sum(1 for record in self.records if record.survived),
            "objects lost": sum(record.lost for record in self.records),
            "wrong deactivations": sum(record.wrong_deactivations for record in self.records),
            "duplicates": sum(record.duplicates for record in self.records),
            "requests over the bound": sum(record.over_bound for record in self.records),
            "secret leaks": sum(record.leaks for record in self.records),
        }

    def summary(self) -> str:
        return ", ".join(f"{name} {count}" for name, count in self.totals().items())

    def failing(self) -> bool:
        totals = self.totals()
        return any(totals[name] for name in list(totals)[2:])


LEDGER = FaultLedger()
