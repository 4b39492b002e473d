# Shared helpers of the benchmark scripts: free ports, a fixed-reply nginx, CPU readings.
# Sourced, not run. Traffic goes to 127.0.0.1 only.

# The ~300-byte JSON reply nginx serves.
REPLY='{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"mock-gpt","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the benchmark reply, a fixed JSON answer of about three hundred bytes."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":16,"total_tokens":28}}'

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
