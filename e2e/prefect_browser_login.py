"""Runs the real `prefect cloud login` (no --key) in a pseudo-terminal, as a
person would: it answers the "How would you like to authenticate?" menu
with Enter (the first choice, the web browser), then waits for the CLI to
finish. The browser half is done by whoever opens the URL the CLI hands
to $BROWSER. Prints the CLI's output; exits with its status."""

import os
import pty
import select
import signal
import sys
import time

prefect = os.path.join(os.path.dirname(sys.executable), "prefect")
pid, fd = pty.fork()
if pid == 0:
    os.execv(prefect, [prefect, "cloud", "login"])

buf = b""
answered = False
deadline = time.time() + float(os.environ.get("LOGIN_TIMEOUT", "240"))
while True:
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        sys.stdout.write(buf.decode(errors="replace"))
        sys.stdout.write("\nprefect cloud login did not finish in time\n")
        sys.exit(1)
    ready, _, _ = select.select([fd], [], [], 0.5)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buf += data
    if not answered and b"How would you like to authenticate" in buf:
        time.sleep(0.5)
        os.write(fd, b"\r")
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(buf.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
