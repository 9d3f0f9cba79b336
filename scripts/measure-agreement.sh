#!/usr/bin/env bash
# Measure how well unitdiff agrees with an image's OWN systemd, edge for edge with origins.
#
#   sudo scripts/measure-agreement.sh [--generators] [--user] ROOT
#   sudo scripts/measure-agreement.sh [--generators] --diff OLD NEW
#
# ROOT is an extracted OS root that ships its systemd (e.g. made with
# `debootstrap --include=systemd trixie ROOT`). The image's own /usr/lib/systemd/systemd runs
# in `--test` mode in a chroot of an overlay over ROOT (a copy without overlayfs), with /proc
# and /sys bound in, as nobody, pulling in every unit unitdiff knows through a synthetic
# target. Prints the agreement of origin-file edges and of all edges, both directions.
# Needs root (chroot, mount), python3.
#
# With --diff, each release is dumped by its own systemd, and the edges `unitdiff diff OLD NEW`
# adds and removes are compared with dump(NEW) - dump(OLD) and dump(OLD) - dump(NEW), both
# directions. When the two ship different systemd versions, OLD's systemd is also run on NEW's
# unit directories (a copy of OLD with NEW's /etc/systemd/system, /usr/lib/systemd/system, …):
# the changes that dump does not explain are the upgrade's, and are compared with the edges the
# diff attributes to the systemd upgrade (generators hidden only: with generators, OLD's
# generators would read OLD's inputs).
#
# Without --generators, generators are hidden on both sides: systemd gets an explicit unit
# path without generator directories, unitdiff runs with --no-generators. With
# --generators, the image's systemd runs its generators (systemd --test does; the unit path
# ends in ":" so the default directories, generator output included, follow) and unitdiff
# emulates them with this host's kernel command line (the generators in the chroot see the
# host's /proc/cmdline and /sys, e.g. its serial console).
#
# With --user, the image's own user manager is the judge (`systemd --test --user`), and
# unitdiff runs with --user. A user manager needs a home and $XDG_RUNTIME_DIR: the chroot
# gets empty ones under /tmp, owned by nobody (the runtime one 0700, as pam_systemd makes
# it), and HOME/XDG_RUNTIME_DIR point there, so no user's own units get in; XDG_CONFIG_DIRS
# and XDG_DATA_DIRS are left unset (their defaults, /etc/xdg and /usr/local/share:/usr/share,
# are part of the user search path). The unit path is given explicitly (the user manager's
# directories of the image, see docs/semantics.md "User scope"), so user generators stay
# hidden on both sides; --generators is refused with --user (user generators are not
# emulated), and so is --diff. This works as is for systemd 252, 257 and 262.
set -euo pipefail
generators=
diff=
user=
while [ $# -gt 0 ]; do
  case "$1" in
    --generators) generators=1; shift ;;
    --diff) diff=1; shift ;;
    --user) user=1; shift ;;
    *) break ;;
  esac
done
if [ -n "$generators" ] && [ -n "$user" ]; then
  echo "error: --generators and --user: user generators are not emulated" >&2
  exit 2
fi
if [ -n "$diff" ] && [ -n "$user" ]; then
  echo "error: --diff and --user together are not supported" >&2
  exit 2
fi
if [ -n "$diff" ] && [ $# -ne 2 ] || [ -z "$diff" ] && [ $# -ne 1 ]; then
  sed -n '3,5p' "$0" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
helper=$here/scripts/agreement.py
work=$(mktemp -d /tmp/unitdiff-agreement.XXXXXX)
cleanup() {
  # KEEP=DIR keeps the dumps and unitdiff's JSON there, to look at the differences.
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    cp "$work"/*.dump "$work"/*.json "$KEEP"/ 2>/dev/null || true
  fi
  for r in "$work"/*/; do
    umount -R "$r/sys" 2>/dev/null || true
    umount "$r/proc" 2>/dev/null || true
    umount "$r" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# UNITDIFF=path/to/unitdiff uses that binary (e.g. a debug build) instead of building release.
if [ -z "${UNITDIFF:-}" ]; then
  cargo build --release -q --manifest-path "$here/Cargo.toml"
  UNITDIFF=$here/target/release/unitdiff
fi
ours_args=(--no-generators)
[ -n "$generators" ] && ours_args=(--kernel-cmdline "$(cat /proc/cmdline)")
scope=()
[ -n "$user" ] && scope=(--user)

# The unit directories systemd searches (besides /run and the generators' output).
unit_dirs="etc/systemd/system usr/local/lib/systemd/system lib/systemd/system usr/lib/systemd/system"

# dump NAME ROOT UNITS_JSON [UNITS_FROM]: run ROOT's own systemd --test on a copy of ROOT,
# pulling in the units of UNITS_JSON; with UNITS_FROM, the copy's unit directories are
# replaced by those of that root first. Writes $work/NAME.dump.
dump() {
  local name=$1 root=$2 units=$3 from=${4:-} copy=$work/$1 d path
  # An overlay over ROOT (writes go to $work) instead of a copy, when the kernel allows it.
  mkdir -p "$copy" "$work/$name.upper" "$work/$name.work"
  if ! mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/$name.upper,workdir=$work/$name.work" "$copy" 2>/dev/null; then
    rmdir "$copy"
    cp -a "$root" "$copy"
  fi
  if [ -n "$from" ]; then
    for d in $unit_dirs; do
      [ -L "$copy/${d%%/*}" ] && continue # /lib merged into /usr: done through usr/lib
      rm -rf "${copy:?}/$d"
      if [ -e "$from/$d" ]; then
        mkdir -p "$(dirname "$copy/$d")"
        cp -a "$from/$d" "$copy/$d"
      fi
    done
  fi
  mkdir -p "$copy/tmp/unitdiff-oracle"
  python3 "$helper" target "$units" "$copy/tmp/unitdiff-oracle/unitdiff-oracle.target"
  chmod -R a+rX "$copy/tmp/unitdiff-oracle"
  # The getty generator only takes a console whose device node it can open: give the chroot
  # the serial consoles the host's command line names (the image's own /dev has none).
  if [ -n "$generators" ]; then
    for c in $(tr ' ' '\n' < /proc/cmdline | sed -n 's/^console=\(ttyS[0-9]*\).*/\1/p'); do
      [ -e "$copy/dev/$c" ] || mknod -m 666 "$copy/dev/$c" c 4 "$((64 + ${c#ttyS}))"
    done
  fi
  mount --bind /proc "$copy/proc"
  mount --rbind /sys "$copy/sys"
  # systemd 256+ refuses to run on a cgroup v1 (or tmpfs) /sys/fs/cgroup, which some hosts and
  # sandboxes have: give the chroot a cgroup2 hierarchy of its own (unmounted with /sys).
  if [ "$(stat -f -c %T "$copy/sys/fs/cgroup" 2>/dev/null)" != cgroup2fs ]; then
    mount -t cgroup2 none "$copy/sys/fs/cgroup" 2>/dev/null ||
      echo "warning: cannot mount cgroup2 on the chroot's /sys/fs/cgroup; systemd 256+ will refuse to run" >&2
  fi
  path=/etc/systemd/system:/run/systemd/system:/usr/local/lib/systemd/system
  [ -L "$copy/lib" ] || path=$path:/lib/systemd/system
  path=$path:/usr/lib/systemd/system:/tmp/unitdiff-oracle
  # The oracle's directory holds only its own target; the default path follows it.
  [ -n "$generators" ] && path=/tmp/unitdiff-oracle:
  if [ -n "$user" ]; then
    path=/etc/xdg/systemd/user:/etc/systemd/user:/run/systemd/user:/usr/local/share/systemd/user
    path=$path:/usr/share/systemd/user:/usr/local/lib/systemd/user:/usr/lib/systemd/user
    path=$path:/tmp/unitdiff-oracle
    install -d -m 0755 -o 65534 -g 65534 "$copy/tmp/unitdiff-home"
    install -d -m 0700 -o 65534 -g 65534 "$copy/tmp/unitdiff-run"
    chroot "$copy" setpriv --reuid=65534 --regid=65534 --clear-groups \
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/tmp/unitdiff-home \
      XDG_RUNTIME_DIR=/tmp/unitdiff-run SYSTEMD_UNIT_PATH="$path" /usr/lib/systemd/systemd \
      --test --user --unit=unitdiff-oracle.target --no-pager > "$work/$name.dump" 2> "$work/$name.stderr" || true
  else
    chroot "$copy" setpriv --reuid=65534 --regid=65534 --clear-groups \
      env HOME=/ SYSTEMD_UNIT_PATH="$path" /usr/lib/systemd/systemd --test --system \
      --unit=unitdiff-oracle.target --no-pager > "$work/$name.dump" 2> "$work/$name.stderr" || true
  fi
  umount -R "$copy/sys"
  umount "$copy/proc"
  if mountpoint -q "$copy"; then
    # A process of the chroot may still be exiting: retry once, then detach the overlay.
    umount "$copy" 2>/dev/null || { sleep 1 && umount "$copy" 2>/dev/null; } || umount -l "$copy"
  fi
  rm -rf "${copy:?}" "$work/$name.upper" "$work/$name.work"
  if ! grep -q 'Unit unitdiff-oracle.target:' "$work/$name.dump"; then
    echo "error: $root's systemd dumped no units; its stderr ends with:" >&2
    grep -v '^Failed to open' "$work/$name.stderr" | tail -n 15 >&2
    exit 1
  fi
}

if [ -z "$diff" ]; then
  root=$(realpath "$1")
  "$UNITDIFF" -q "${scope[@]}" graph "$root" --format json "${ours_args[@]}" > "$work/ours.json"
  dump image "$root" "$work/ours.json"
  python3 "$helper" graph "$work/ours.json" "$work/image.dump"
  exit 0
fi

old=$(realpath "$1")
new=$(realpath "$2")
"$UNITDIFF" -q graph "$old" --format json "${ours_args[@]}" > "$work/old.json"
"$UNITDIFF" -q graph "$new" --format json "${ours_args[@]}" > "$work/new.json"
# diff exits 1 when there are changes.
"$UNITDIFF" -q diff "$old" "$new" --format json "${ours_args[@]}" > "$work/diff.json" || [ $? -eq 1 ]
dump old "$old" "$work/old.json"
dump new "$new" "$work/new.json"
mixed=()
if [ -z "$generators" ] &&
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["old"]["systemd"] == d["new"]["systemd"])' "$work/diff.json"; then
  dump mixed "$old" "$work/new.json" "$new"
  mixed=("$work/mixed.dump")
fi
python3 "$helper" diff "$work/old.json" "$work/old.dump" "$work/new.json" "$work/new.dump" \
  "$work/diff.json" "${mixed[@]}"
