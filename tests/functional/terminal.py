"""Run a command on a pseudo-terminal (what a user's shell gives it) and return what it drew, escape codes
removed, as the frames it wrote: progress bars only show on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(args: list[str], *, columns: int = 200, timeout: float = 300) -> tuple[int, list[str]]:
    """`python -m watchfloor ARGS` on a pty `columns` wide: its exit code and every frame (line or redraw)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES", "CI", "TERM")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchfloor", *args], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=timeout)
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return code, [f.strip() for f in re.split(r"[\r\n]+", text) if f.strip()]
