#!/usr/bin/env bash
# Starts and stops an unprivileged-config nginx for baselines: its own prefix, config, pid and
# temp dirs under DIR, listening on 127.0.0.1:PORT only, serving DIR/www (GET with sendfile,
# WebDAV PUT/DELETE). Used by bench/run.sh and for testing aisloader without a cluster.
#   bench/nginx.sh start DIR PORT      (returns once the port answers)
#   bench/nginx.sh stop DIR
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

write_conf() {
    local d=$1 port=$2 user_line=""
    # A root master would drop its workers to "nobody", which cannot write DIR; keep root.
    [ "$(id -u)" -eq 0 ] && user_line="user root root;"
    cat > "$d/nginx.conf" <<CONF
$user_line
worker_processes auto;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 10000000;
    client_max_body_size 0;
    client_body_buffer_size 128k;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port reuseport;
        root $d/www;
        location / {
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }
    }
}
CONF
}

case "$cmd" in
start)
    port=${3:?port}
    mkdir -p "$dir/www" "$dir/tmp"
    write_conf "$dir" "$port"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -t -q
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null >>"$dir/stdout.log" 2>&1 &
    echo $! > "$dir/master.pid"
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
            exit 0
        fi
        kill -0 "$(cat "$dir/master.pid")" 2>/dev/null || break
        sleep 0.05
    done
    echo "nginx did not start; see $dir/error.log" >&2
    cat "$dir/error.log" >&2 || true
    exit 1
    ;;
stop)
    [ -f "$dir/master.pid" ] || exit 0
    pid=$(cat "$dir/master.pid")
    # QUIT = graceful; fall back to TERM, then KILL, each bounded.
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/master.pid"
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
