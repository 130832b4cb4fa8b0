"""Helper processes of the project's tests, with every wait on them bounded.

A child's stdout to a pipe is block-buffered unless the child flushes or PYTHONUNBUFFERED is set,
which a user's shell does not set: a test that waits for a line must not hang on that, nor on a
child that dies or stalls before it writes. Ports are picked by the test, not read from a child.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import time


def listening_socket() -> socket.socket:
    """A loopback TCP socket already listening on a port the OS chose: hand it to a child (pass_fds),
    and connections queue from this moment on, before the child has even started."""
    return socket.create_server(("127.0.0.1", 0))


def child_env() -> dict[str, str]:
    """The test's environment, with Python children writing unbuffered (a pipe is not a terminal)."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def read_line(proc: subprocess.Popen, timeout_s: float) -> str:
    """The next line `proc` writes to its stdout (a binary pipe), within `timeout_s`, else AssertionError."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    data = b""
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(timeout=left):
                raise AssertionError(f"{proc.args!r} wrote no line within {timeout_s:.0f} s (so far: {data!r})")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"{proc.args!r} exited (code {proc.poll()}) before writing a line: {data!r}")
            data += chunk
    finally:
        selector.close()
    return data.split(b"\n", 1)[0].decode()


def stop(proc: subprocess.Popen, timeout_s: float = 10) -> None:
    """Kill `proc` and reap it, bounded (a process in uninterruptible sleep is left to the OS)."""
    proc.kill()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        pass


def run_in_new_network_namespace(args: list[str], cwd: str | os.PathLike, log: os.PathLike,
                                 timeout_s: float) -> int | None:
    """Run `args` under `unshare -n` (a network namespace of its own: peers that skip loopback get the
    veth pair it makes), output to `log`, within `timeout_s`: its exit code, or None when the deadline
    passed (the whole process group is killed then)."""
    with open(log, "w") as out:  # the child holds its own copy of the descriptor
        proc = subprocess.Popen(["unshare", "-n", "--", *args], cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        return None
