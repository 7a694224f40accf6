"""Distinct team names: many apps refuse a second group with a name already taken (some with a 409,
some with an HTML 500), and people cannot tell two "Greta Krüger's Team" apart anyway.

Every team has a list of names, best first (``TeamNaming``, made by ``sync.desired``): its plain
name, then qualified forms ("Greta Krüger's Team (greta.k@acme.example)", "IT (department)", and
one with the kind and the Personio id, which no other team of ours can have). Names are compared
ignoring case. The rule, in two passes over the teams in a fixed order (supervisor, team,
department, office, employment type; within a kind by Personio id):

1. A team keeps the name the app already holds for it (our group, by externalId) while that name is
   still one of its names and no team before it kept the same one. So a suffix, once given, never
   moves to the other team because of an unrelated change, and renaming one team never renames another.
2. Every other team takes its first name that none of our teams has taken and no group made by hand
   in the app has (a hand-made group is never renamed; ours steps aside).

On a first run (nothing held) the team first in that order gets the plain name. Names of our groups
that this run removes are not reserved (the applier removes before it creates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from personio_operator.run_warnings import RunWarning, WarningKind, warning
from personio_operator.safe_text import clean_text, shown
from personio_operator.scim.models import DesiredGroup, TargetState, is_managed_external_id
from personio_operator.sync.naming import MAX_NAME_LENGTH


@dataclass(frozen=True)
class TeamNaming:
    """The names a team may have, best first, and its place when teams compete for a name."""

    names: tuple[str, ...]  # the plain name first; the last one is unique among our teams
    rank: tuple[int, int, str]  # kind order, then Personio id order
    described: str  # the team in a warning: "department 12", "supervisor 1008"

    @property
    def plain(self) -> str:
        return self.names[0]


def name_teams(
    groups: Sequence[DesiredGroup], namings: Mapping[str, TeamNaming], current: TargetState
) -> tuple[list[DesiredGroup], list[RunWarning]]:
    """The groups with distinct names (same order), and a warning for each team that steps aside for a
    group made by hand in the app. Groups without a naming keep their name."""
    held: dict[str, str] = {}
    for group in sorted(current.groups, key=lambda group: group.id):
        if is_managed_external_id(group.external_id):
            assert group.external_id is not None
            held.setdefault(group.external_id, group.display_name)
    hand_made = {
        group.display_name.casefold() for group in current.groups if not is_managed_external_id(group.external_id)
    }

    def rank(group: DesiredGroup) -> tuple[int, tuple[int, int, str], str]:
        naming = namings.get(group.external_id)
        return (0, (0, 0, ""), group.external_id) if naming is None else (1, naming.rank, group.external_id)

    ordered = sorted(groups, key=rank)
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    for group in ordered:  # 1. what the app holds, or the name of a group without a naming
        naming = namings.get(group.external_id)
        name = group.display_name if naming is None else held.get(group.external_id)
        options = (group.display_name,) if naming is None else naming.names
        if name is not None and name in options and name.casefold() not in taken:
            chosen[group.external_id] = name
            taken.add(name.casefold())
    warnings: list[RunWarning] = []
    for group in ordered:  # 2. the first free name
        naming = namings.get(group.external_id)
        if group.external_id in chosen or naming is None:
            continue
        plain_is_ours = naming.plain.casefold() in taken
        name = _first_free(naming, taken | hand_made)
        chosen[group.external_id] = name
        taken.add(name.casefold())
        if name != naming.plain and naming.plain.casefold() in hand_made and not plain_is_ours:
            warnings.append(
                warning(
                    WarningKind.HAND_MADE_GROUP,
                    f"The app has a group named {shown(naming.plain)!r} that this integration did not make; the "
                    f"{naming.described} team is named {shown(name)!r} instead, so the two stay apart",
                )
            )
    named = [
        group.model_copy(update={"display_name": chosen.get(group.external_id, group.display_name)}) for group in groups
    ]
    return named, warnings


def _first_free(naming: TeamNaming, taken: set[str]) -> str:
    for name in naming.names:
        if name.casefold() not in taken:
            return name
    last = naming.names[-1]
    for number in range(2, len(taken) + 3):  # at most len(taken) numbers can be taken
        suffix = f" #{number}"
        name = clean_text(last, MAX_NAME_LENGTH - len(suffix)) + suffix
        if name.casefold() not in taken:
            return name
    raise AssertionError("unreachable: more numbers were tried than names are taken")
