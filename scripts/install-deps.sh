#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmarks need.
# Idempotent: packages already present are skipped, so a second run does nothing.
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config clang
    libnng-dev libprotobuf-c-dev protobuf-c-compiler
    libmicrohttpd-dev libxxhash-dev libisal-dev libcmocka-dev
    libcurl4-openssl-dev libssl-dev libarchive-dev libmsgpack-dev libjansson-dev
    python3 python3-requests python3-msgpack python3-pytest python3-xxhash
    curl attr procps lz4
    libexpat1-dev python3-boto3 awscli s3cmd rclone
    prometheus openapi-specification python3-jsonschema python3-yaml iproute2
)
if [ "${1:-}" = "--bench" ]; then
    PKGS+=(nginx-light wrk)
fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
