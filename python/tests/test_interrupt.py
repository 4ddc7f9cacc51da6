"""Ctrl-C stops a long run promptly with a clean KeyboardInterrupt."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

# A run of hours: 5·10^4 events in each of 10^6 replications.
CHILD = textwrap.dedent(
    '''
    import sys
    import flashpoint as fp

    s = fp.Scenario.from_string("""
    [scenario]
    name = "busy"
    horizon = 500
    [[actor]]
    id = "A"
    [[event]]
    id = "ping"
    [[hazard]]
    name = "pings"
    event = "ping"
    rate = 100.0
    """)
    started = False

    def progress(done, total):
        global started
        if not started:
            started = True
            print("started", flush=True)

    try:
        s.run(reps=1_000_000, seed=1, threads=2, progress=progress)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(0)
    print("finished", flush=True)
    sys.exit(1)
    '''
)


def test_sigint_stops_a_long_run_with_keyboard_interrupt():
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "started\n"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert (child.returncode, out, err) == (0, "interrupted\n", "")


SILENT = CHILD.replace(
    "try:\n    s.run(reps=1_000_000, seed=1, threads=2, progress=progress)",
    "import os, signal, threading\n"
    "# No progress callback: the run itself must notice the signal.\n"
    "threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
    "try:\n    s.run(reps=1_000_000, seed=1, threads=2, progress=False)",
)


def test_sigint_stops_a_silent_run_too():
    assert "progress=False" in SILENT
    child = subprocess.run([sys.executable, "-c", SILENT], capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout, child.stderr) == (0, "interrupted\n", "")
