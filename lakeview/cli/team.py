"""A command run by torchrun as one of several processes: joining the team, keeping the ranks other than 0 quiet,
and ending every rank alike when one of them cannot go on."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Iterator

from lakeview.cli.console import UserError

if TYPE_CHECKING:
    from lakeview.core.distributed import Team


@contextlib.contextmanager
def torchrun_team(device: str) -> Iterator[Team | None]:
    """The team of this torchrun launch while the block runs (None when torchrun did not start this process).
    On ranks other than 0, what the command prints (progress, notes, the stop message) goes nowhere; an error
    that ends the command is still printed by every rank."""
    from lakeview.core.distributed import started_by_torchrun, team_of_this_launch

    if not started_by_torchrun():
        yield None
        return
    with contextlib.ExitStack() as stack:
        try:
            team = stack.enter_context(team_of_this_launch(device))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        stack.enter_context(quiet_unless_leader(team))
        yield team


@contextlib.contextmanager
def quiet_unless_leader(team: Team) -> Iterator[None]:
    if team.leader:
        yield
        return
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere), contextlib.redirect_stderr(nowhere):
        yield


def all_ready(team: Team | None, ready: bool, what: str) -> bool:
    """Whether every rank is ready (collective); a rank that is, when another is not, says so in an error: that
    rank printed its own reason. False only when this rank itself is not ready (it stopped, or will raise)."""
    if team is None:
        return ready
    anyone_not_ready = team.any(not ready)[0]
    if ready and anyone_not_ready:
        raise UserError(f"another of the {team.size} processes could not {what} (its message says why)")
    return ready


def exit_code(team: Team | None, code: int) -> int:
    """The command's exit code on this rank. Torchrun ends every rank as soon as one ends with an error code, and
    rank 0 may still be writing or placing files: the other ranks end with 0 once their share is done (the
    outcome is rank 0's to tell), or with 130 as all do when stopped."""
    from lakeview.cli.console import EXIT_INTERRUPTED, EXIT_OK

    if team is None or team.leader or code == EXIT_INTERRUPTED:
        return code
    return EXIT_OK


def processes_text(team: Team) -> str:
    return f"{team.size} processes ({team.backend}, {team.device.type})"
