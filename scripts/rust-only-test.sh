#!/usr/bin/env bash
# Run the tests as on a machine with only Rust installed: systemd, systemctl, Graphviz,
# cmark-gfm, util-linux's script/setpriv, groff and browsers are hidden in a private mount namespace
# (nothing changes outside this process). `cargo test` must pass there and list the tests
# that need those tools as ignored.
#
#   sudo scripts/rust-only-test.sh [CARGO TEST ARGS...]     (needs root for unshare/mount)
set -euo pipefail
if [ "${UNITDIFF_RUST_ONLY:-}" != 1 ]; then
  export UNITDIFF_RUST_ONLY=1
  exec unshare --mount --propagation private "$0" "$@"
fi
cd "$(dirname "$0")/.."
empty=$(mktemp)
hide() { [ -e "$1" ] && mount --bind "$empty" "$1" && echo "hidden: $1"; return 0; }
for tool in dot neato cmark-gfm systemctl systemd-analyze setpriv script chromium mmdc groff; do
  for dir in /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
    [ -L "$dir" ] && continue
    hide "$dir/$tool"
  done
done
# systemd itself and the machine's own unit tree.
mount -t tmpfs -o ro,mode=0755 none /usr/lib/systemd && echo "hidden: /usr/lib/systemd"
mount -t tmpfs -o ro,mode=0755 none /etc/systemd && echo "hidden: /etc/systemd"
for t in dot cmark-gfm systemctl setpriv script groff; do
  if command -v "$t" >/dev/null && "$t" --version >/dev/null 2>&1; then
    echo "still runnable: $t" >&2; exit 2
  fi
done
[ ! -e /lib/systemd/systemd ] || { echo "still present: /lib/systemd/systemd" >&2; exit 2; }
cargo test "$@"
