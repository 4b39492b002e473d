"""Run a command and print its user+system CPU seconds and peak RSS (KiB) on stderr's last line:
`cpu_s=<float> maxrss_kb=<int>`. Used by the benchmark scripts to measure load generators alike.

The peak RSS comes from GNU time (`/usr/bin/time`) when it is installed: Linux keeps a process's
high-water RSS across `exec`, so a command started straight from this Python process would
report at least Python's own ~14 MB, whatever the command used. time's own is under 2 MB.
Without it, the figure is this floor-bound one, and a warning says so."""
import os
import resource
import subprocess
import sys
import tempfile

TIME = "/usr/bin/time"

if os.access(TIME, os.X_OK):
    with tempfile.NamedTemporaryFile("r") as out:
        code = subprocess.call(
            [TIME, "-o", out.name, "-f", "%M", *sys.argv[1:]],
            stdout=sys.stdout,
            stderr=subprocess.DEVNULL,
        )
        # A failing command gets a "Command exited with non-zero status" line first.
        maxrss = int(out.read().split()[-1])
else:
    print("warning: no /usr/bin/time: peak RSS includes Python's own", file=sys.stderr)
    code = subprocess.call(sys.argv[1:], stdout=sys.stdout, stderr=subprocess.DEVNULL)
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"cpu_s={u.ru_utime + u.ru_stime:.3f} maxrss_kb={maxrss}", file=sys.stderr)
sys.exit(code)
