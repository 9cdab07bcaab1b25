#!/usr/bin/env bash
# Install the system tools the sandboxed grader needs, only when they are missing.
#   bubblewrap (bwrap)  the sandbox around each student's kernel
#   prlimit             resource limits (util-linux; present on Debian/Ubuntu)
# Idempotent: does nothing when both are there. Uses apt-get only as root on a Debian-like
# system; elsewhere it prints what to install and exits 0 (funlm-grade then refuses to grade
# without a sandbox unless --unsafe-no-sandbox is given).
set -euo pipefail

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v prlimit >/dev/null 2>&1 || missing+=(util-linux)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_system_deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "ensure_system_deps: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]});" \
         "the grader will not run student code without a sandbox" >&2
fi
