"""Where the default ledger lives.

Agents undo their work with `git reset --hard` and `git clean -fdx`, often. Both leave the
git directory alone, so inside a repository the ledger lives in the repository's common git
directory (`.git/ridgeline/ledger.db`), which every worktree of the repository shares.
Outside a repository it is `./ridgeline.db`.

The lookup reads `.git` files itself instead of running `git`, because hooks call it on
every tool use and a subprocess per call would be felt.
"""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENT_VARIABLE = "RIDGELINE_DB"
LEDGER_FOLDER = "ridgeline"
LEDGER_FILE = "ledger.db"


def find_git_common_dir(start: Path) -> Path | None:
    """The git directory shared by all worktrees of the repository holding `start`."""
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return _follow_commondir(dot_git)
        if dot_git.is_file():
            git_dir = _read_gitdir_file(dot_git)
            if git_dir is not None:
                return _follow_commondir(git_dir)
    return None


def _read_gitdir_file(dot_git: Path) -> Path | None:
    # A worktree or submodule has a `.git` file: "gitdir: <path>", relative to its folder.
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text.removeprefix("gitdir:").strip())
    return (dot_git.parent / target).resolve() if not target.is_absolute() else target


def _follow_commondir(git_dir: Path) -> Path:
    # A worktree's git directory names the shared one in its `commondir` file.
    commondir = git_dir / "commondir"
    if commondir.is_file():
        try:
            target = Path(commondir.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            return git_dir
        return (git_dir / target).resolve() if not target.is_absolute() else target
    return git_dir


def default_location(cwd: Path | None = None) -> str:
    """The ledger to use when neither `--db` nor RIDGELINE_DB names one."""
    cwd = Path.cwd() if cwd is None else cwd
    git_dir = find_git_common_dir(cwd.resolve())
    if git_dir is not None:
        return str(git_dir / LEDGER_FOLDER / LEDGER_FILE)
    return str(cwd / "ridgeline.db")


def resolve_location(explicit: str | os.PathLike[str] | None = None) -> str:
    """`--db` if given, else RIDGELINE_DB, else the default for the working directory."""
    if explicit:
        return os.fspath(explicit)
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE)
    if from_environment:
        return from_environment
    return default_location()
