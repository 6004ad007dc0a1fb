"""What the eAdm simulator plays: the cycle's steps and how long each takes, the errors eAdm
shows, the faults a cycle can have, and the named scenarios (`eadm-bot simulator --list`).

Times are in simulated seconds; `Simulation` turns them into real time by its speed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.domain import EXPORT_AD, IMPORT_AD, SYNCHRONIZATION, canonical_step

# Each step and how long it takes, in simulated seconds.
STEP_PLAN: tuple[tuple[str, float], ...] = (
    ("Import HR", 120),
    ("Import HR Future", 60),
    ("Import Hierarchy", 30),
    ("Import AD", 90),
    ("Synchronization", 180),
    ("Export AD", 120),
    ("Import AD Results", 30),
    ("Export Azure", 60),
    ("Export eFeide", 45),
)
STEPS = tuple(name for name, _ in STEP_PLAN)
GAP = 30 * 60  # simulated seconds between the end of one cycle and the start of the next

ERRORS: dict[str, str] = {
    "Import HR": "Visma HRM Enterprise answered 500 Internal Server Error on /hrm/v2/employees",
    "Import HR Future": "Timeout after 300 s reading future employments from the HR system",
    "Import Hierarchy": "Organisation unit 4410 has parent 9999, which does not exist",
    "Import AD": "LDAP bind failed: 80090308: LdapErr: DSID-0C09044E, data 52e",
    "Synchronization": "Rule 'Ansatt-grunnpakke' threw NullReferenceException for person 1012",
    "Export AD": "Client did not answer: the connection to eAdm client on EADM01 timed out",
    "Import AD Results": "No result file from the client for export batch 8812",
    "Export Azure": "Microsoft Graph answered 403 Authorization_RequestDenied",
    "Export eFeide": "Feide API rejected the batch: 401 invalid_token",
}
THRESHOLD_MESSAGE = (
    "Import filter stopped the synchronization: 14.2 % of users would be deleted "
    "(limit 10 %). Review Import History and resume the cycle."
)


@dataclass(frozen=True)
class Fault:
    step: str
    kind: str  # fail | stuck | not_started | safety_threshold
    message: str | None = None
    hold: float | None = None  # simulated seconds until it clears by itself; None: never


@dataclass(frozen=True)
class Scenario:
    about: str
    plan: tuple[Fault | None, ...]  # faults of successive cycles, repeated
    more_cycles: bool = True  # False: after the first cycle, none follows
    api: str = "up"  # up | down | garbage


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _scenarios() -> dict[str, Scenario]:
    found: dict[str, Scenario] = {
        "healthy": Scenario("every cycle completes", (None,)),
        "tour": Scenario(
            "a bit of everything, with recoveries in between (the demo)",
            (
                None,
                Fault(EXPORT_AD, "fail"),
                None,
                Fault(SYNCHRONIZATION, "safety_threshold", hold=40 * 60),
                Fault(IMPORT_AD, "not_started", hold=30 * 60),
                None,
            ),
        ),
        "safety-threshold": Scenario(
            "Synchronization stopped by the import filter (too many deletions)",
            (Fault(SYNCHRONIZATION, "safety_threshold"),),
        ),
        "no-new-cycle": Scenario("one cycle completes, then none starts", (None,), False),
        "api-down": Scenario("the status API answers 503", (None,), api="down"),
        "garbage": Scenario("the status API answers 200 with broken JSON", (None,), api="garbage"),
    }
    for name in STEPS:
        found[f"fail:{_slug(name)}"] = Scenario(
            f"{name} fails in every cycle", (Fault(name, "fail"),)
        )
        found[f"not-started:{_slug(name)}"] = Scenario(
            f"{name} never starts after the step before it", (Fault(name, "not_started"),)
        )
        found[f"stuck:{_slug(name)}"] = Scenario(
            f"{name} starts and never completes", (Fault(name, "stuck"),)
        )
    return found


SCENARIOS_FULL = _scenarios()
SCENARIOS: dict[str, str] = {name: s.about for name, s in SCENARIOS_FULL.items()}


def find_scenario(name: str) -> Scenario:
    key = name.strip().lower()
    if ":" in key:
        kind, step = key.split(":", 1)
        key = f"{kind}:{_slug(canonical_step(step.replace('-', ' ')))}"
    if key not in SCENARIOS_FULL:
        raise ValueError(
            f"unknown scenario {name!r}; choose one of: {', '.join(sorted(SCENARIOS_FULL))}"
        )
    return SCENARIOS_FULL[key]
