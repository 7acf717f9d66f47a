"""Agent hooks: ridgeline wired into Claude Code and Codex.

- `claude_code`: hook settings merged into a project's `.claude/settings.json`, and the
  handler those hooks run (brief at session start, runs recorded after benchmark
  commands, compactions marked).
- `codex`: ridgeline's MCP server in Codex's `config.toml` and a section of the project's
  `AGENTS.md`.
- `merge`: editing other programs' files without disturbing what is already there.

`python -m ridgeline.hooks claude-code` is the command the installed hooks run. It imports
nothing heavy until the event needs it, and never fails the agent's session.
"""
