#!/usr/bin/env bash
# with-medusa.sh COMMAND [ARGS...]
#
# Runs COMMAND against a real Medusa on this machine, then stops everything it started (even on failure):
#   1. PostgreSQL: the installed binaries (Debian's `postgresql` package is installed when they are missing,
#      as root); a throwaway cluster in a temporary directory, run by an unprivileged user (`postgres` when
#      we are root), listening on 127.0.0.1 only, password authentication.
#   2. Medusa $MEDUSA_VERSION from the npm registry, installed once into
#      $CATALOG_SYNC_CACHE/medusa/$MEDUSA_VERSION (default ~/.cache/catalog-sync/...), with this directory's
#      medusa-config.ts (admin UI off, no Redis) and the Brand Module from integrations/medusa-brand/src.
#   3. The database: migrated (`medusa db:migrate`, module links included) plus an admin user, once per
#      (version, Brand Module, config); later runs restore that state from a cached dump in seconds.
#   4. `medusa start` on 127.0.0.1 (meanwhile `tsc --noEmit` type-checks the Brand Module), a secret API key
#      minted through the Admin API (admin login -> JWT -> POST /admin/api-keys), then COMMAND with
#      MEDUSA_URL and MEDUSA_SECRET_KEY in its environment, and CATALOG_SYNC_WEBHOOK_URL (a free 127.0.0.1
#      port nothing listens on until a test does) and CATALOG_SYNC_WEBHOOK_SECRET, which Medusa's webhook
#      forwarder was started with.
# Anything that stops Medusa from starting exits non-zero with the reason (and the server log's tail).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BRAND_SRC="$REPO/integrations/medusa-brand/src"
MEDUSA_VERSION=$(node -p "require('$HERE/package.json').dependencies['@medusajs/medusa']")
CACHE_ROOT=${CATALOG_SYNC_CACHE:-$HOME/.cache/catalog-sync}
PROJECT="$CACHE_ROOT/medusa/$MEDUSA_VERSION"
ADMIN_EMAIL=admin@catalog-sync.test
ADMIN_PASSWORD=catalog-sync-contract # a throwaway store on 127.0.0.1 only
START=$SECONDS

say() { printf '[with-medusa %3ds] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ $# -gt 0 ] || die "usage: with-medusa.sh COMMAND [ARGS...]"
command -v node >/dev/null && command -v npm >/dev/null || die "Node.js 20+ and npm are required"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# --- PostgreSQL -------------------------------------------------------------------------------------------
pg_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/psql" ] && { echo "$dir"; return 0; }
  done
  return 1
}
PG_BIN=$(pg_bin || true)
if [ -z "$PG_BIN" ]; then
  [ "$(id -u)" = 0 ] || die "PostgreSQL binaries not found; install Debian's postgresql package (as root)"
  say "installing PostgreSQL (apt-get install postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  no_autostart="" # the package would start its own cluster as a service: we only want the binaries
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && no_autostart=1
  fi
  installed=1
  timeout 300 apt-get update -qq >/dev/null || installed=""
  [ -z "$installed" ] || timeout 300 apt-get install -y -qq --no-install-recommends postgresql >/dev/null || installed=""
  [ -z "$no_autostart" ] || rm -f /usr/sbin/policy-rc.d
  [ -n "$installed" ] || die "apt-get install postgresql failed"
  PG_BIN=$(pg_bin) || die "PostgreSQL binaries still missing after apt-get install"
fi

if [ "$(id -u)" = 0 ]; then # PostgreSQL refuses to run as root
  id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  as_pg() { runuser -u postgres -- "$@"; }
  PG_OWNER=postgres
else
  as_pg() { "$@"; }
  PG_OWNER=$(id -un)
fi

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/catalog-sync-medusa.XXXXXX")
chmod 755 "$RUN_DIR"
PGDATA="$RUN_DIR/pgdata"
PG_PORT=$(free_port)
PG_PASSWORD=$(node -p 'require("crypto").randomBytes(18).toString("hex")')
SERVER_PID=""

cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
  if [ -f "$PGDATA/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$RUN_DIR"
  say "stopped Medusa and PostgreSQL (exit $status)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') as $PG_OWNER on 127.0.0.1:$PG_PORT"
printf '%s\n' "$PG_PASSWORD" >"$RUN_DIR/pwfile"
chown -R "$PG_OWNER" "$RUN_DIR"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$RUN_DIR/pwfile" --auth=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$RUN_DIR/initdb.log" 2>&1 || { cat "$RUN_DIR/initdb.log" >&2; die "initdb failed"; }
rm -f "$RUN_DIR/pwfile"
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$RUN_DIR/postgres.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$RUN_DIR -c fsync=off" >/dev/null \
  || { tail -20 "$RUN_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
export PGPASSWORD=$PG_PASSWORD
psql_() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_ -d postgres -c "CREATE DATABASE medusa"
export DATABASE_URL="postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/medusa"

# --- Medusa project: node_modules cached (one install at a time), the rest per run --------------------------
mkdir -p "$PROJECT"
exec 9>"$PROJECT/.lock"
flock -w 900 9 || die "timed out waiting for another run's Medusa install ($PROJECT/.lock)"
if ! cmp -s "$HERE/package.json" "$PROJECT/package.json" || [ ! -f "$PROJECT/.installed" ]; then
  say "installing Medusa $MEDUSA_VERSION from the npm registry into $PROJECT"
  rm -f "$PROJECT/.installed"
  cp "$HERE/package.json" "$PROJECT/package.json"
  (cd "$PROJECT" && timeout 600 npm install --no-audit --no-fund --loglevel=error >"$PROJECT/npm-install.log" 2>&1) \
    || { tail -30 "$PROJECT/npm-install.log" >&2; die "npm install of Medusa $MEDUSA_VERSION failed"; }
  touch "$PROJECT/.installed"
fi
flock -u 9
APP="$RUN_DIR/app" # this run's Medusa application: our config and the Brand Module over the cached packages
mkdir -p "$APP"
cp "$HERE/package.json" "$HERE/medusa-config.ts" "$HERE/tsconfig.json" "$APP/"
cp -R "$BRAND_SRC" "$APP/src"
ln -s "$PROJECT/node_modules" "$APP/node_modules"
cd "$APP"
export NODE_ENV=development MEDUSA_DISABLE_TELEMETRY=true

# --- database: migrated once, then restored from a dump ---------------------------------------------------
DB_KEY=$(cat "$HERE/package.json" "$HERE/medusa-config.ts" $(find "$BRAND_SRC" -type f | sort) | sha256sum | cut -c1-16)
DUMP="$PROJECT/db-$DB_KEY.sql"
if [ -s "$DUMP" ]; then
  say "restoring the migrated database ($(basename "$DUMP"))"
  psql_ -d medusa -f "$DUMP" >/dev/null
else
  say "migrating the database (medusa db:migrate)"
  timeout 600 npx medusa db:migrate >"$RUN_DIR/migrate.log" 2>&1 \
    || { tail -40 "$RUN_DIR/migrate.log" >&2; die "medusa db:migrate failed"; }
  timeout 300 npx medusa user -e "$ADMIN_EMAIL" -p "$ADMIN_PASSWORD" >"$RUN_DIR/user.log" 2>&1 \
    || { tail -20 "$RUN_DIR/user.log" >&2; die "creating the admin user failed"; }
  "$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U postgres --no-owner --no-privileges medusa >"$DUMP.tmp"
  mv "$DUMP.tmp" "$DUMP"
fi

# --- Medusa server ---------------------------------------------------------------------------------------
PORT=$(free_port)
export MEDUSA_URL="http://127.0.0.1:$PORT"
# The webhook forwarder (integrations/medusa-brand/src/subscribers) sends to a listener the tests open on
# this port, signed with this run's secret.
HOOK_PORT=$(free_port)
export CATALOG_SYNC_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/webhooks/pixlpay-and-medusa/destination"
export CATALOG_SYNC_WEBHOOK_SECRET="whsec_$(node -p 'require("crypto").randomBytes(24).toString("base64")')"
export CATALOG_SYNC_WEBHOOK_BACKOFF_MS=200 CATALOG_SYNC_WEBHOOK_MAX_ATTEMPTS=3
say "starting Medusa on $MEDUSA_URL"
setsid npx medusa start -H 127.0.0.1 -p "$PORT" >"$RUN_DIR/medusa.log" 2>&1 &
SERVER_PID=$!
# Meanwhile: the Brand Module we ship must type-check (Medusa itself only transpiles it).
timeout 300 npx tsc --noEmit -p . >"$RUN_DIR/tsc.log" 2>&1 \
  || { cat "$RUN_DIR/tsc.log" >&2; die "integrations/medusa-brand does not type-check"; }
ready=""
for _ in $(seq 1 240); do # at most 120 s
  kill -0 "$SERVER_PID" 2>/dev/null || break
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$MEDUSA_URL/health")" = 200 ]; then ready=1; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { tail -40 "$RUN_DIR/medusa.log" >&2; die "Medusa did not become healthy on $MEDUSA_URL"; }

MEDUSA_SECRET_KEY=$(ADMIN_EMAIL=$ADMIN_EMAIL ADMIN_PASSWORD=$ADMIN_PASSWORD node "$HERE/mint-secret-key.mjs") \
  || { tail -20 "$RUN_DIR/medusa.log" >&2; die "could not mint a secret API key"; }
export MEDUSA_SECRET_KEY MEDUSA_VERSION
export MEDUSA_LOG="$RUN_DIR/medusa.log"
say "Medusa $MEDUSA_VERSION ready; running: $*"
cd "$REPO"
set +e
"$@"
status=$?
set -e
say "command exited $status"
exit "$status"
