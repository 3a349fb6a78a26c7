#!/usr/bin/env bash
# Make sure the services the test suite needs are on this machine:
#
#   PostgreSQL  answering at 127.0.0.1:5432, trust auth for user postgres,
#               a database `test`            (tests marked `postgres`)
#   Chromium    Debian's, at /usr/bin/chromium (tests marked `browser`)
#
# Idempotent: what is already there is used as it is; only what is missing is
# installed (Debian packages through apt-get, as root or through sudo) and
# started. Browsers come from Debian only: never `playwright install`.
#
# What it does goes to standard error. Standard output carries only shell
# lines for the caller to eval, so that
#
#     eval "$(bash scripts/ensure-services.sh)"
#
# (as `make test` does) exports TEST_DATABASE_URL when PostgreSQL answers.
#
# A service it cannot provide is a warning (the tests that need it skip), or
# an error (exit 1) when ENSURE_SERVICES_STRICT=1, the default under CI=true,
# where every test must run. Settings (environment):
#   TEST_DATABASE_URL       already set: use that server as it is, install nothing
#   TEST_PG_HOST, TEST_PG_PORT   default 127.0.0.1 and 5432
#   ENSURE_SERVICES_STRICT  1 or 0 (default: 1 when CI=true, else 0)
set -euo pipefail

PG_HOST=${TEST_PG_HOST:-127.0.0.1}
PG_PORT=${TEST_PG_PORT:-5432}
PG_USER=postgres
PG_DB="test"
CHROMIUM=/usr/bin/chromium
HBA_MARK="# added by bshare-fees scripts/ensure-services.sh"

strict=${ENSURE_SERVICES_STRICT:-}
if [ -z "$strict" ]; then
    if [ "${CI:-}" = true ]; then strict=1; else strict=0; fi
fi

say() { printf 'ensure-services: %s\n' "$*" >&2; }
problems=()
problem() {
    printf 'ensure-services: WARNING: %s\n' "$*" >&2
    problems+=("$*")
}

# --- running things as root ---------------------------------------------------

# Root (CI) runs the command itself; anyone else goes through sudo, which may
# ask for a password on a terminal and must not wait for one without it.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
    else
        say "cannot run as root (not root and no sudo): $*"
        return 1
    fi
}

can_be_root() {
    [ "$(id -u)" -eq 0 ] && return 0
    command -v sudo >/dev/null 2>&1 || return 1
    [ -t 0 ] || sudo -n true 2>/dev/null
}

apt_updated=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        say "apt-get not found (not a Debian-family machine): install $* yourself"
        return 1
    fi
    if [ "$apt_updated" = 0 ]; then
        say "running: apt-get update"
        if ! as_root apt-get -q -o DPkg::Lock::Timeout=300 update >&2; then
            say "apt-get update failed; trying the install with the package lists there are"
        fi
        apt_updated=1
    fi
    say "running: apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -q -y -o DPkg::Lock::Timeout=300 install "$@" >&2
}

# --- PostgreSQL ---------------------------------------------------------------

pg_answers() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3
    else
        # No client tools yet: is anything listening there at all?
        timeout 3 bash -c ": </dev/tcp/$PG_HOST/$PG_PORT" 2>/dev/null
    fi
}

# psql as postgres over TCP, never prompting for a password (-w).
pg_sql() {
    psql -X -q -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@"
}

# The newest PostgreSQL server installed from Debian's packages (its binaries,
# not configuration a removed version may have left in /etc/postgresql).
pg_version() {
    local bin
    for bin in /usr/lib/postgresql/*/bin/postgres; do
        if [ -x "$bin" ]; then basename "$(dirname "$(dirname "$bin")")"; fi
    done | sort -V | tail -n 1
}

# Put trust lines for 127.0.0.1 and ::1 at the top of the cluster's pg_hba.conf
# (the first matching line wins), once. Returns 0 when the file was changed.
pg_trust_localhost() {
    local hba=$1
    if as_root grep -qF "$HBA_MARK" "$hba"; then
        return 1
    fi
    say "configuring trust auth for 127.0.0.1 and ::1 (top of $hba)"
    # shellcheck disable=SC2016 # expanded by the inner sh, from its arguments
    as_root sh -c '
        tmp=$(mktemp) &&
        { printf "%s\n" "$2" \
            "host    all             all             127.0.0.1/32            trust" \
            "host    all             all             ::1/128                 trust" \
            ""; cat "$1"; } >"$tmp" &&
        cat "$tmp" >"$1" && rm -f "$tmp"' sh "$hba" "$HBA_MARK (test database only)"
}

# Install (if need be), configure and start Debian's cluster `main`.
pg_bring_up() {
    if ! can_be_root; then
        say "not root, and no sudo that works without a terminal: cannot install or start PostgreSQL"
        return 1
    fi
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(pg_version)" ]; then
        apt_install postgresql || return 1
    fi
    local ver
    ver=$(pg_version)
    if [ -z "$ver" ]; then
        say "no PostgreSQL server under /usr/lib/postgresql after the install"
        return 1
    fi
    if [ ! -f "/etc/postgresql/$ver/main/postgresql.conf" ]; then
        say "running: pg_createcluster $ver main"
        as_root pg_createcluster "$ver" main >&2 || return 1
    fi
    pg_trust_localhost "/etc/postgresql/$ver/main/pg_hba.conf" || true
    say "running: pg_ctlcluster --skip-systemctl-redirect $ver main start"
    local wait=30
    if ! as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2; then
        # Already running (on another port or address?): let it reread pg_hba.conf.
        say "pg_ctlcluster did not start it; reloading its configuration"
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >&2 || true
        wait=3
    fi
    for _ in $(seq "$wait"); do
        if pg_answers; then return 0; fi
        sleep 1
    done
    say "cluster $ver/main does not answer at $PG_HOST:$PG_PORT; pg_lsclusters says:"
    pg_lsclusters >&2 || true
    return 1
}

ensure_postgres() {
    if [ -n "${TEST_DATABASE_URL:-}" ]; then
        say "PostgreSQL: TEST_DATABASE_URL is set; using it as it is"
        if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -d "$TEST_DATABASE_URL" -t 3; then
            problem "PostgreSQL: the server of TEST_DATABASE_URL does not answer"
            return 0
        fi
        printf 'export TEST_DATABASE_URL=%q\n' "$TEST_DATABASE_URL"
        return 0
    fi

    if pg_answers; then
        say "PostgreSQL: answers at $PG_HOST:$PG_PORT; using it"
    else
        say "PostgreSQL: nothing answers at $PG_HOST:$PG_PORT; installing/starting Debian's postgresql"
        if ! pg_bring_up; then
            problem "PostgreSQL: could not install or start a server (tests marked postgres will skip)"
            return 0
        fi
        say "PostgreSQL: started; answers at $PG_HOST:$PG_PORT"
    fi

    if ! command -v psql >/dev/null 2>&1; then
        apt_install postgresql-client || true
    fi
    if ! command -v psql >/dev/null 2>&1; then
        problem "PostgreSQL: no psql to check the database $PG_DB (tests marked postgres will skip)"
        return 0
    fi
    if ! pg_sql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
        problem "PostgreSQL at $PG_HOST:$PG_PORT refuses user $PG_USER without a password; allow trust for 127.0.0.1 in its pg_hba.conf or set TEST_DATABASE_URL"
        return 0
    fi
    if [ "$(pg_sql -d postgres -Atc "select 1 from pg_database where datname = '$PG_DB'")" != 1 ]; then
        say "PostgreSQL: creating database $PG_DB"
        # Another run may create it at the same moment: check again on failure.
        if ! pg_sql -d postgres -c "create database $PG_DB" >&2 &&
            [ "$(pg_sql -d postgres -Atc "select 1 from pg_database where datname = '$PG_DB'")" != 1 ]; then
            problem "PostgreSQL: could not create database $PG_DB"
            return 0
        fi
    fi
    local url="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
    say "PostgreSQL: ready: TEST_DATABASE_URL=$url"
    printf 'export TEST_DATABASE_URL=%q\n' "$url"
}

# --- Chromium -----------------------------------------------------------------

chromium_works() {
    local profile out
    profile=$(mktemp -d)
    # The flags of a headless run on a machine without a screen or open network.
    out=$(timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" --dump-dom about:blank 2>/dev/null) || true
    rm -rf "$profile"
    [[ "$out" == *"<html"* ]]
}

ensure_chromium() {
    if [ -x "$CHROMIUM" ]; then
        say "Chromium: $CHROMIUM is installed"
    else
        say "Chromium: $CHROMIUM is missing; installing Debian's chromium"
        if ! apt_install chromium fonts-liberation; then
            problem "Chromium: could not install Debian's chromium (tests marked browser will skip)"
            return 0
        fi
    fi
    if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list 2>/dev/null | head -n 1)" ]; then
        say "Chromium: no fonts installed; pages would render without text"
        apt_install fonts-liberation fonts-dejavu-core || problem "Chromium: could not install fonts"
    fi
    if chromium_works; then
        say "Chromium: ready: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") renders a page headless"
    else
        problem "Chromium: $CHROMIUM did not render about:blank headless (tests marked browser may fail)"
    fi
}

# --- main ---------------------------------------------------------------------

ensure_postgres
ensure_chromium

if [ "${#problems[@]}" -gt 0 ]; then
    if [ "$strict" = 1 ]; then
        say "FAILED (strict: CI=true or ENSURE_SERVICES_STRICT=1): ${#problems[@]} service problem(s)"
        exit 1
    fi
    say "done with ${#problems[@]} warning(s); the tests that need the missing services will skip"
else
    say "done: all services ready"
fi
