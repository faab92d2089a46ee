#!/bin/sh
# Idempotent set-up for a fresh Debian/Ubuntu machine with Node.js >= 20: system packages,
# npm dependencies and the TypeScript build. `--for-tests` adds what the test suite needs.
set -eu
cd "$(dirname "$0")/.."

say() { printf 'lamina setup: %s\n' "$*" >&2; }

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  say "Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))."
  exit 1
fi

# System packages: bubblewrap and socat (the sandbox and its Runtime API relay), boto3 (Python
# functions import it, as on AWS; /usr is visible in the jail), iproute2 and nftables (the
# functions' network, as root), slirp4netns and nftables (the functions' network, as an
# unprivileged user: wanted, not needed); for the tests also the AWS CLI v2 (awscli), curl
# (custom-runtime bootstraps), slirp4netns (servers run as an unprivileged user), umoci,
# skopeo and docker-registry (container images), and prometheus (it scrapes /metrics).
need=""
want=""
[ -x /usr/bin/bwrap ] || need="$need bubblewrap"
[ -x /usr/bin/socat ] || need="$need socat"
[ -x /usr/bin/setpriv ] || need="$need util-linux"
[ -d /usr/lib/python3/dist-packages/boto3 ] || need="$need python3-boto3"
if [ "$(id -u)" -eq 0 ]; then
  [ -x /usr/sbin/ip ] || [ -x /bin/ip ] || need="$need iproute2"
  [ -x /usr/sbin/nft ] || need="$need nftables"
else
  [ -x /usr/bin/slirp4netns ] || want="$want slirp4netns"
  [ -x /usr/sbin/nft ] || want="$want nftables"
fi
if [ "${1:-}" = "--for-tests" ]; then
  [ -x /usr/bin/aws ] || need="$need awscli"
  [ -x /usr/bin/curl ] || need="$need curl"
  [ -x /usr/bin/slirp4netns ] || need="$need slirp4netns"
  [ -x /usr/bin/umoci ] || need="$need umoci"
  [ -x /usr/bin/skopeo ] || need="$need skopeo"
  [ -x /usr/bin/docker-registry ] || need="$need docker-registry"
  [ -x /usr/bin/prometheus ] || need="$need prometheus"
fi
if [ -n "$want" ]; then
  if [ "$(id -u)" -ne 0 ] && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
    say "without$want functions will have loopback only (sudo apt-get install -y$want gives them the network)"
  else
    need="$need$want"
  fi
fi
if [ -n "$need" ]; then
  if [ "$(id -u)" -eq 0 ]; then as_root=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root="sudo -n"; else as_root="none"; fi
  if [ "$as_root" = "none" ]; then
    say "missing Debian packages:$need. Install them with: sudo apt-get install -y$need"
    exit 1
  fi
  say "installing Debian packages:$need"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  $as_root apt-get install -y -q $need >/dev/null 2>&1 || {
    $as_root apt-get update -q >/dev/null
    $as_root apt-get install -y -q $need >/dev/null
  }
  # The tests run their own Prometheus: the package's services (ports 9090, and 9100 for the
  # node exporter it recommends) stay stopped and off.
  case " $need " in *" prometheus "*)
    for service in prometheus prometheus-node-exporter; do
      $as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
      $as_root service "$service" stop >/dev/null 2>&1 || true
      $as_root update-rc.d "$service" disable >/dev/null 2>&1 || true
    done
    ;;
  esac
fi

# As root, functions run as the system user lamina-sandbox (the server also creates it when missing).
if [ "$(id -u)" -eq 0 ] && ! id lamina-sandbox >/dev/null 2>&1; then
  say "creating the system user lamina-sandbox (functions run as it)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment 'Lamina function sandboxes' lamina-sandbox
fi

# User-mode networking (the functions' network of an unprivileged server) opens /dev/net/tun,
# which Debian's udev makes 0666; a machine without udev leaves it root's. The tests run such
# servers.
if [ "${1:-}" = "--for-tests" ] && [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] &&
  [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
  say "making /dev/net/tun 0666, as Debian's udev does (user-mode networking needs it)"
  chmod 0666 /dev/net/tun
fi

# npm dependencies, reinstalled whenever package-lock.json changes.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.lamina-lock 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.lamina-lock
fi

# The TypeScript build, skipped when nothing it compiles changed since the last one (a start on
# a built checkout then takes about a second instead of a full compile). The stamp is taken
# before compiling, so an edit made during a build is compiled by the next one.
stamp=dist/.lamina-build
if [ -f "$stamp" ] && [ -z "$(find src test bench tsconfig.json package-lock.json -newer "$stamp" -print -quit)" ]; then
  say "the build is up to date"
else
  say "building"
  mkdir -p dist
  touch "$stamp.next"
  npx --no-install tsc -p tsconfig.json
  mv "$stamp.next" "$stamp"
fi
# The managed runtimes: official Node.js 18, 20, 22 and 24 binaries and the AWS SDK for
# JavaScript v3 bundle, from the npm registry into the runtimes folder (about 3 minutes the first
# time). The check runs the runtimes command on its own, without the whole CLI: a tenth of a
# second when everything is there.
missing=$(node dist/src/cli/runtimes-command.js install --all --dry-run)
if [ -n "$missing" ]; then
  say "installing the managed runtimes: $missing"
  node bin/lamina.js runtimes install --all >/dev/null
fi
# The tests pin a function to an older nodejs22.x release: a second one beside the newest.
if [ "${1:-}" = "--for-tests" ]; then
  older=nodejs22.x@22.23.3
  if [ -n "$(node dist/src/cli/runtimes-command.js install "$older" --dry-run)" ]; then
    say "installing $older (runtime pinning tests)"
    node bin/lamina.js runtimes install "$older" >/dev/null
  fi
fi

# The official Node.js runtime client, built once for its end-to-end test (about 2 minutes).
if [ "${1:-}" = "--for-tests" ]; then sh scripts/build-test-ric.sh; fi

# The Python runtime client runs read-only in the jail: compile it once here.
if [ -x /usr/bin/python3 ]; then /usr/bin/python3 -m compileall -q runtimes/python >/dev/null || true; fi
