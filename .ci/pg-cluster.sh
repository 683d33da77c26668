#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for cssm's tests, on 127.0.0.1 and a Unix
# socket in its own folder. Source it: it defines pg_start and pg_stop and,
# after pg_start, exports CSSM_TEST_DATABASE (a postgres:// URL).
#   . .ci/pg-cluster.sh; pg_start; ...; pg_stop
# Installs Debian's postgresql package if its binaries are missing (as root).

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

pg_start() {
  if ! PGBIN=$(pg_bin); then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    PGBIN=$(pg_bin) || { echo "PostgreSQL is not installed (apt-get install postgresql)"; return 1; }
  fi
  PGPORT="${PGPORT:-54329}"
  PGDIR=$(mktemp -d /tmp/cssm-pg.XXXXXX)
  # initdb and postgres refuse to run as root.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PGDIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U cssm --auth=trust -E UTF8 >"$PGDIR/initdb.log" 2>&1 ||
    { cat "$PGDIR/initdb.log"; return 1; }
  PG_AS=("${as[@]}")
  pg_up || return 1
  "${as[@]}" "$PGBIN/createdb" -h "$PGDIR" -p "$PGPORT" -U cssm cssm_test
  export CSSM_TEST_DATABASE="postgres://cssm@127.0.0.1:$PGPORT/cssm_test?sslmode=disable"
  echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT ($PGDIR)"
}

# pg_down and pg_up stop and start the server of the cluster (a database outage).
pg_up() {
  "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c max_connections=200 -c fsync=on" start >/dev/null ||
    { cat "$PGDIR/server.log"; return 1; }
}

pg_down() {
  "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null
}

pg_stop() {
  [ -n "${PGDIR:-}" ] || return 0
  "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
  unset CSSM_TEST_DATABASE PGDIR
}
