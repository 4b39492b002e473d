# Shared helpers of the benchmark scripts: free ports, a fixed-reply nginx, the mock on a port
# of its choosing, CPU readings, wrk output checks.
# Sourced, not run. Traffic goes to 127.0.0.1 only.

# The ~300-byte JSON reply nginx serves.
REPLY='{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"mock-gpt","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the benchmark reply, a fixed JSON answer of about three hundred bytes."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":16,"total_tokens":28}}'

# free_port: a port that was free a moment ago (another process may take it before it is
# bound; servers that can bind port 0 and report it, like the mock, should do that instead).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_nginx DIR PORT: nginx with one worker answering REPLY to every request; sets NGINX_PID
# to the worker's pid (the process that serves).
start_nginx() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 200 '$REPLY'; }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  NGINX_MASTER=$!
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  NGINX_PID=$(pgrep -P "$NGINX_MASTER" | head -1)
}

# start_mock BIN [ARGS...]: `BIN mock --port 0 ARGS...` in the background; sets MOCK_PID (the
# mock's own pid) and MOCK_URL (`http://127.0.0.1:PORT/`) from the address line it prints.
# With MOCK_CPU set, the mock starts on that core alone (`taskset -c`), so that its runtime
# sizes itself to one core rather than two threads taking turns on it.
start_mock() {
  local bin=$1 line
  shift
  local pin=()
  [ -n "${MOCK_CPU:-}" ] && pin=(taskset -c "$MOCK_CPU")
  exec {MOCK_FD}< <(exec "${pin[@]}" "$bin" mock --port 0 "$@")
  MOCK_PID=$!
  if ! read -r -t 30 line <&"$MOCK_FD" || [[ $line != "listening on "* ]]; then
    echo "the mock printed no address line (got: ${line:-nothing})" >&2
    return 1
  fi
  MOCK_URL=${line#listening on }
}

# cpu_ticks PID: user + system clock ticks of a process so far.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# Clock ticks per second.
TICKS=$(getconf CLK_TCK)

# wrk_requests OUTPUT: the request count wrk printed.
wrk_requests() {
  grep -oE '^ +[0-9]+ requests in' <<<"$1" | grep -oE '[0-9]+'
}

# wrk_check NAME OUTPUT: fail when wrk saw errors — non-2xx answers or socket errors make its
# request count mean something else than served requests.
wrk_check() {
  if grep -qE 'Non-2xx|Socket errors' <<<"$2"; then
    echo "$1: wrk reported errors:" >&2
    grep -E 'Non-2xx|Socket errors' <<<"$2" >&2
    return 1
  fi
}
