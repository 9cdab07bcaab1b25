#!/usr/bin/env bash
# Install the system tools the course needs, only when they are missing.
#   bubblewrap (bwrap)  the sandbox around each student's kernel (funlm-grade)
#   prlimit             resource limits (util-linux; present on Debian/Ubuntu)
#   chromium            headless browser for the book's browser test (tests/test_browser.py,
#                       driven through Playwright with executable_path=/usr/bin/chromium)
#   fonts-noto-cjk      a Korean (CJK) font, so the browser renders Hangul instead of tofu boxes
# Idempotent: does nothing when all are there. Uses apt-get only as root on a Debian-like
# system; elsewhere it prints what to install and exits 0 (funlm-grade then refuses to grade
# without a sandbox unless --unsafe-no-sandbox is given; the browser test fails and says what
# is missing).
#
#   ensure_system_deps.sh            everything above (make system-deps, make test)
#   ensure_system_deps.sh --grader   only what funlm-grade needs: bubblewrap and prlimit
#                                    (make grade, make bench, make bench-grade)
set -euo pipefail

grader_only=false
[ "${1:-}" = "--grader" ] && grader_only=true

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v prlimit >/dev/null 2>&1 || missing+=(util-linux)
if ! $grader_only; then
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    # Any installed font that covers Hangul (U+AC00 "가") will do; Noto CJK is what we install.
    if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list ':charset=AC00' family 2>/dev/null)" ]; then
        missing+=(fonts-noto-cjk fontconfig)
    fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_system_deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "ensure_system_deps: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]});" \
         "the grader will not run student code without a sandbox, and the book's browser test" \
         "needs chromium and a Korean font" >&2
fi
