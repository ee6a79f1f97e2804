#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for compat/ and bench/ (sourced, not run):
#   source compat/pg.sh; pg_start [durable]; echo "$PG_URL"; ...; pg_stop
# initdb into a temporary directory, pg_ctl start on a free loopback port, as the "postgres" user when
# run as root (initdb refuses root), from Debian's postgresql binaries (PATH or /usr/lib/postgresql/*/bin).
# PG_URL is a superuser URL of the "postgres" database; pg_stop removes the cluster. Without the
# "durable" argument fsync and synchronous commit are off (tests); bench passes "durable".

pg_bin_dir() {
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [[ -n "$d" && -x "$d/initdb" ]] || { echo "pg.sh: PostgreSQL binaries not found (apt-get install postgresql)" >&2; return 1; }
  echo "$d"
}

pg_start() {
  local durable="${1:-}" bin
  bin="$(pg_bin_dir)" || return 1
  PG_DIR="$(mktemp -d /tmp/baton-pg-XXXXXX)"
  PG_RUN=()
  if [[ "$(id -u)" == 0 ]]; then
    local owner=postgres
    id "$owner" >/dev/null 2>&1 || owner=nobody
    chown "$owner" "$PG_DIR"
    PG_RUN=(runuser -u "$owner" --)
  fi
  "${PG_RUN[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$PG_DIR'"
    echo "max_connections = 400"
    echo "shared_buffers = 128MB"
    if [[ "$durable" != durable ]]; then
      echo "fsync = off"; echo "synchronous_commit = off"; echo "full_page_writes = off"
    fi
  } >>"$PG_DIR/data/postgresql.conf"
  local try
  for try in 1 2 3; do
    PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    if "${PG_RUN[@]}" "$bin/pg_ctl" start -w -t 60 -D "$PG_DIR/data" -l "$PG_DIR/log" -o "-p $PG_PORT" >/dev/null 2>&1; then
      PG_BIN="$bin"
      PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
      export PG_URL PG_DIR PG_BIN PG_PORT
      return 0
    fi
  done
  cat "$PG_DIR/log" >&2
  return 1
}

pg_stop() {
  [[ -n "${PG_DIR:-}" && -d "$PG_DIR/data" ]] || return 0
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" stop -m immediate -w -D "$PG_DIR/data" >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
