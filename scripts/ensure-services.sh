#!/usr/bin/env bash
# Make sure the services the test suite talks to are up on loopback:
#   PostgreSQL 127.0.0.1:5432 (user postgres, trust auth), Redis 127.0.0.1:6379, and
#   Debian's Chromium (and npm, for htmx) for the browser tests.
# Already running → nothing to do. Missing on a fresh Debian machine → install the Debian
# packages and start them, bound to loopback only.
set -euo pipefail

log() { echo "[ensure-services] $*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

pkgs=()
pg_ready() { command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q; }
redis_ready() { command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! pg_ready && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then pkgs+=(postgresql); fi
if ! redis_ready && ! command -v redis-server >/dev/null; then pkgs+=(redis-server); fi
if [ ! -x /usr/bin/chromium ]; then pkgs+=(chromium); fi
# npm installs the web UI's browser libraries (htmx) from package-lock.json.
if ! command -v npm >/dev/null; then pkgs+=(npm); fi
# CJK fonts so Chinese pages render (and screenshot) as text, not boxes.
if ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then pkgs+=(fonts-noto-cjk); fi
if [ "${#pkgs[@]}" -gt 0 ]; then
  log "installing Debian packages: ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

if ! pg_ready; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$ver" ]; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  conf=/etc/postgresql/$ver/main
  log "starting PostgreSQL $ver on 127.0.0.1:5432"
  $SUDO sed -i "s/^#\?listen_addresses.*/listen_addresses = 'localhost'/" "$conf/postgresql.conf"
  if ! grep -q "huiliu-test-trust" "$conf/pg_hba.conf"; then
    # Trust on loopback only, for the local test user; prepended so it wins.
    $SUDO sh -c "printf '%s\n' '# huiliu-test-trust' 'local all postgres trust' 'host all postgres 127.0.0.1/32 trust' 'host all postgres ::1/128 trust' | cat - '$conf/pg_hba.conf' > /tmp/pg_hba.huiliu && cp /tmp/pg_hba.huiliu '$conf/pg_hba.conf'"
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main restart
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  pg_ready || { log "PostgreSQL did not start"; exit 1; }
fi

if ! redis_ready; then
  log "starting Redis on 127.0.0.1:6379"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 20); do redis_ready && break; sleep 0.5; done
  redis_ready || { log "Redis did not start"; exit 1; }
fi
log "PostgreSQL, Redis and Chromium are ready"
