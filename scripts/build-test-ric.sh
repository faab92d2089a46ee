#!/bin/sh
# Builds the official AWS Lambda Node.js runtime interface client (npm `aws-lambda-ric@3`, with its
# libcurl/aws-lambda-cpp native addon) once, for test/e2e/aws-lambda-ric.test.ts.
#
#   sh scripts/build-test-ric.sh [folder]
#
# The folder defaults to node_modules/.cache/lamina-aws-lambda-ric (the test reads
# $LAMINA_TEST_RIC_DIR, or that default). It gets its own package.json and node_modules; the build
# takes about 2 minutes and is skipped when the folder already holds a finished one. The package's
# install scripts build curl and aws-lambda-cpp from the sources it ships, then the addon with
# node-gyp against this Node's own headers: only the npm registry is needed, no other download.
set -eu

say() { printf 'build-test-ric: %s\n' "$*" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/node_modules/.cache/lamina-aws-lambda-ric}
case $dest in /*) ;; *) dest="$PWD/$dest" ;; esac
marker="$dest/.lamina-built"
addon="node_modules/aws-lambda-ric/dist/rapid-client.node"

if [ -f "$marker" ] && [ -f "$dest/$addon" ]; then
  say "already built in $dest ($(cat "$marker")); delete that folder to rebuild"
  exit 0
fi

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
  say "node and npm are required"
  exit 1
}

# Build tools the install scripts use: command → Debian package.
need=""
for pair in autoconf:autoconf automake:automake libtoolize:libtool cmake:cmake make:make \
  g++:g++ python3:python3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need="$need ${pair#*:}"
done
if [ -n "$need" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
  else
    say "missing build tools; install them with: sudo apt-get install -y$need"
    exit 1
  fi
  command -v apt-get >/dev/null 2>&1 || {
    say "missing build tools (Debian packages:$need) and no apt-get to install them"
    exit 1
  }
  say "installing Debian packages:$need"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  $as_root apt-get install -y -q $need >/dev/null 2>&1 || {
    $as_root apt-get update -q >/dev/null
    $as_root apt-get install -y -q $need >/dev/null
  }
fi

# node-gyp would download Node's headers; use the ones installed next to this node instead.
prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$prefix"
fi

# Never replace a folder this script did not make.
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ] &&
  ! grep -q '"lamina-test-aws-lambda-ric"' "$dest/package.json" 2>/dev/null; then
  say "$dest exists and is not an aws-lambda-ric build folder; choose another folder"
  exit 1
fi
mkdir -p "$(dirname "$dest")"
work="$dest.partial-$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
log="$work/build.log"

# npm 11 asks for install scripts to be approved (allowScripts); without them there is no addon.
cat >"$work/package.json" <<'EOF'
{
  "name": "lamina-test-aws-lambda-ric",
  "private": true,
  "allowScripts": {
    "aws-lambda-ric": true
  }
}
EOF

fail() {
  say "$1; the last lines of $dest.log:"
  cp "$log" "$dest.log"
  tail -n 40 "$log" >&2
  exit 1
}

say "building aws-lambda-ric@3 in $dest (about 2 minutes; log: $dest/build.log, or $dest.log on failure)"
started=$(date +%s)
(cd "$work" && npm install aws-lambda-ric@3 --no-audit --no-fund --foreground-scripts) \
  >"$log" 2>&1 || fail "npm install failed"
if [ ! -f "$work/$addon" ]; then
  # An npm that skipped the scripts despite allowScripts: approve them explicitly and rebuild.
  say "the install scripts did not run; approving them and rebuilding"
  (cd "$work" && npm install-scripts approve aws-lambda-ric &&
    npm rebuild aws-lambda-ric --foreground-scripts) >>"$log" 2>&1 || fail "npm rebuild failed"
fi
[ -f "$work/$addon" ] || fail "the native addon $addon was not built"
# Loading it only reads the Runtime API address (it aborts without one); nothing is contacted.
AWS_LAMBDA_RUNTIME_API=127.0.0.1:9 node -e 'require(process.argv[1])' "$work/$addon" >>"$log" 2>&1 ||
  fail "the native addon does not load"

version=$(node -p 'require(process.argv[1]).version' "$work/node_modules/aws-lambda-ric/package.json")
echo "aws-lambda-ric@$version built $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$work/.lamina-built"
rm -rf "$dest" "$dest.log"
mv "$work" "$dest"
say "built aws-lambda-ric@$version in $(($(date +%s) - started)) s: $dest"
