"""Ctrl-C stops a long run promptly with a clean KeyboardInterrupt."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

# A run of hours: 5·10^4 events in each of 10^6 replications.
CHILD = textwrap.dedent(
    '''
    import sys
    import flashpoint as fp

    s = fp.Scenario.from_string("""
    [scenario]
    name = "busy"
    horizon = 500
    [params]
    rate = { value = 100.0, min = 1.0, max = 1000.0 }
    [[actor]]
    id = "A"
    [[event]]
    id = "ping"
    [[hazard]]
    name = "pings"
    event = "ping"
    rate = "rate"
    """)
    started = False

    def progress(done, total):
        global started
        if not started:
            started = True
            print("started", flush=True)

    try:
        CALL
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(0)
    print("finished", flush=True)
    sys.exit(1)
    '''
)


# Each long-running call of the package, with the progress callback above.
CALLS = {
    "run": "s.run(reps=1_000_000, seed=1, threads=2, progress=progress)",
    "sweep": 'fp.sweep(s, vary=["rate=50,100"], reps=1_000_000, seed=1, threads=2, progress=progress)',
    "compare": "fp.compare(s, reps=1_000_000, seed=1, threads=2, progress=progress)",
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_sigint_stops_a_long_call_with_keyboard_interrupt(call):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.replace("CALL", CALLS[call])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "started\n"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert (child.returncode, out, err) == (0, "interrupted\n", "")


SILENT = CHILD.replace(
    "try:\n    CALL",
    "import os, signal, threading\n"
    "# No progress callback: the call itself must notice the signal.\n"
    "threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
    "try:\n    CALL",
)


@pytest.mark.parametrize("call", sorted(CALLS))
def test_sigint_stops_a_silent_call_too(call):
    code = SILENT.replace("CALL", CALLS[call].replace("progress=progress", "progress=False"))
    assert "progress=False" in code and "threading.Timer" in code
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout, child.stderr) == (0, "interrupted\n", "")
