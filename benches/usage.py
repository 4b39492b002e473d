"""Run a command and print its user+system CPU seconds and peak RSS (KiB) on stderr's last line:
`cpu_s=<float> maxrss_kb=<int>`. Used by the benchmark scripts to measure load generators alike."""
import resource
import subprocess
import sys

code = subprocess.call(sys.argv[1:], stdout=sys.stdout, stderr=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"cpu_s={u.ru_utime + u.ru_stime:.3f} maxrss_kb={u.ru_maxrss}", file=sys.stderr)
sys.exit(code)
