"""What git says about a working directory, and throwaway worktrees to run old commits in.

Every function runs `git` as a subprocess in the folder it is given and never changes the
user's working tree, index or branches: the only writes are `git worktree add --detach`
into a fresh temporary folder and its removal.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from ridgeline.errors import InputError

logger = logging.getLogger(__name__)


class GitState(NamedTuple):
    """The code a benchmark ran: HEAD's commit and what differs from it."""

    commit: str
    branch: str | None
    dirty: bool
    diff_hash: str | None

    @property
    def short(self) -> str:
        return self.commit[:10]


def git(folder: str | Path, *args: str, check: bool = True) -> str:
    """Run one git command in `folder` and return its stdout, stripped."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise InputError("git is not installed or not on PATH") from None
    if check and done.returncode != 0:
        message = done.stderr.strip() or f"exit status {done.returncode}"
        raise InputError(f"git {' '.join(args)} failed in {folder}: {message}")
    return done.stdout.strip()


def repository_root(folder: str | Path) -> Path | None:
    """The top of the working tree holding `folder`, or None outside a repository."""
    output = git(folder, "rev-parse", "--show-toplevel", check=False)
    return Path(output) if output else None


def head_commit(folder: str | Path) -> str | None:
    """HEAD's full commit id, or None outside a repository or before the first commit."""
    output = git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    return output or None


def recent_commits(folder: str | Path, limit: int = 200) -> list[str]:
    """HEAD and its first-parent ancestors, newest first."""
    output = git(folder, "rev-list", "--first-parent", f"--max-count={limit}", "HEAD",
                 check=False)
    return output.split()


def current_state(folder: str | Path, ignore: Sequence[Path] = ()) -> GitState | None:
    """HEAD, the branch, and whether (and how) the tree differs from HEAD.

    The diff hash covers tracked changes (staged or not) and the names and contents of
    untracked files that are not ignored, so two dirty trees with the same edits share it.
    Untracked files at or under `ignore` (the ledger's own file and artifacts, when they
    live in the tree) count for neither. Returns None outside a repository or before the
    first commit.
    """
    commit = head_commit(folder)
    if commit is None:
        return None
    branch = git(folder, "symbolic-ref", "--quiet", "--short", "HEAD", check=False) or None
    root = repository_root(folder) or Path(folder)
    tracked = git(root, "status", "--porcelain", "--untracked-files=no")
    if not tracked and not _untracked(root, ignore):
        return GitState(commit, branch, False, None)
    return GitState(commit, branch, True, diff_hash(folder, ignore))


def _untracked(root: Path, ignore: Sequence[Path]) -> list[str]:
    names = git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    skipped = [Path(p).resolve() for p in ignore]
    return sorted(
        name for name in names
        if name and not any(_within((root / name).resolve(), path) for path in skipped)
    )


def _within(path: Path, folder_or_file: Path) -> bool:
    return path == folder_or_file or folder_or_file in path.parents


def diff_hash(folder: str | Path, ignore: Sequence[Path] = ()) -> str:
    """A SHA-256 of the tree's differences from HEAD, untracked files included (except
    those at or under `ignore`)."""
    digest = hashlib.sha256()
    root = repository_root(folder) or Path(folder)
    tracked = subprocess.run(
        ["git", "diff", "HEAD", "--binary", "--no-ext-diff", "--no-color"],
        cwd=root, capture_output=True, check=True,
    ).stdout
    digest.update(tracked)
    for name in _untracked(root, ignore):
        digest.update(b"\0untracked\0" + name.encode())
        path = root / name
        if path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@contextlib.contextmanager
def temporary_worktree(folder: str | Path, commit: str) -> Iterator[Path]:
    """A detached worktree of `commit` in a fresh temporary folder, removed on exit.

    The worktree is removed even when the block raises, and `git worktree prune` runs
    afterwards so the repository keeps no record of it.
    """
    root = repository_root(folder)
    if root is None:
        raise InputError(f"{folder} is not inside a git repository")
    parent = Path(tempfile.mkdtemp(prefix="ridgeline-validate-"))
    path = parent / "tree"
    git(root, "worktree", "add", "--detach", "--quiet", str(path), commit)
    try:
        yield path
    finally:
        _remove_worktree(root, path)
        shutil.rmtree(parent, ignore_errors=True)


def _remove_worktree(root: Path, path: Path) -> None:
    done = subprocess.run(
        ["git", "worktree", "remove", "--force", str(path)],
        cwd=root, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        # The folder is deleted by the caller either way; prune forgets the stale entry.
        logger.warning("git worktree remove %s failed: %s", path, done.stderr.strip())
    subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True, check=False)

