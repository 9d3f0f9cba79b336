#!/usr/bin/env bash
# Measure how well unitdiff agrees with an image's OWN systemd, edge for edge with origins.
#
#   sudo scripts/measure-agreement.sh [--generators] [--user] ROOT
#
# ROOT is an extracted OS root that ships its systemd (e.g. made with
# `debootstrap --include=systemd trixie ROOT`). The image's own /usr/lib/systemd/systemd runs
# in `--test` mode in a chroot of a copy of ROOT (with /proc and /sys bound in, as nobody),
# pulling in every unit unitdiff knows through a synthetic target. Prints the agreement of
# origin-file edges and of all edges, both directions. Needs root (chroot, mount), python3.
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
# emulated). This works as is for systemd 252, 257 and 262.
set -euo pipefail
generators=
user=
while [ $# -gt 1 ]; do
  case "$1" in
    --generators) generators=1 ;;
    --user) user=1 ;;
    *) break ;;
  esac
  shift
done
if [ -n "$generators" ] && [ -n "$user" ]; then
  echo "error: --generators and --user: user generators are not emulated" >&2
  exit 2
fi
root=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/unitdiff-agreement.XXXXXX)
trap 'umount -R "$work/root/sys" 2>/dev/null || true; umount "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT

# UNITDIFF=path/to/unitdiff uses that binary (e.g. a debug build) instead of building release.
if [ -z "${UNITDIFF:-}" ]; then
  cargo build --release -q --manifest-path "$here/Cargo.toml"
  UNITDIFF=$here/target/release/unitdiff
fi
if [ -n "$user" ]; then
  "$UNITDIFF" -q --user graph "$root" --format json --no-generators > "$work/ours.json"
elif [ -n "$generators" ]; then
  "$UNITDIFF" -q graph "$root" --format json --kernel-cmdline "$(cat /proc/cmdline)" > "$work/ours.json"
else
  "$UNITDIFF" -q graph "$root" --format json --no-generators > "$work/ours.json"
fi

cp -a "$root" "$work/root"
mkdir -p "$work/root/tmp/unitdiff-oracle"
python3 - "$work/ours.json" "$work/root/tmp/unitdiff-oracle/unitdiff-oracle.target" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
names = [u["name"] for u in g["units"]]
with open(sys.argv[2], "w") as f:
    f.write("[Unit]\nDefaultDependencies=no\n")
    for n in names:
        f.write(f"Wants={n}\n")
PY
chmod -R a+rX "$work/root/tmp/unitdiff-oracle"
# The getty generator only takes a console whose device node it can open: give the chroot
# the serial consoles the host's command line names (the image's own /dev has none).
if [ -n "$generators" ]; then
  for c in $(tr ' ' '\n' < /proc/cmdline | sed -n 's/^console=\(ttyS[0-9]*\).*/\1/p'); do
    [ -e "$work/root/dev/$c" ] || mknod -m 666 "$work/root/dev/$c" c 4 "$((64 + ${c#ttyS}))"
  done
fi
mount --bind /proc "$work/root/proc"
mount --rbind /sys "$work/root/sys"
# systemd 256+ refuses to run on a cgroup v1 (or tmpfs) /sys/fs/cgroup, which some hosts and
# sandboxes have: give the chroot a cgroup2 hierarchy of its own (unmounted with /sys).
if [ "$(stat -f -c %T "$work/root/sys/fs/cgroup" 2>/dev/null)" != cgroup2fs ]; then
  mount -t cgroup2 none "$work/root/sys/fs/cgroup" 2>/dev/null ||
    echo "warning: cannot mount cgroup2 on the chroot's /sys/fs/cgroup; systemd 256+ will refuse to run" >&2
fi
path=/etc/systemd/system:/run/systemd/system:/usr/local/lib/systemd/system
[ -L "$root/lib" ] || path=$path:/lib/systemd/system
path=$path:/usr/lib/systemd/system:/tmp/unitdiff-oracle
# The oracle's directory holds only its own target; the default path follows it.
[ -n "$generators" ] && path=/tmp/unitdiff-oracle:
if [ -n "$user" ]; then
  path=/etc/xdg/systemd/user:/etc/systemd/user:/run/systemd/user:/usr/local/share/systemd/user
  path=$path:/usr/share/systemd/user:/usr/local/lib/systemd/user:/usr/lib/systemd/user
  path=$path:/tmp/unitdiff-oracle
  install -d -m 0755 -o 65534 -g 65534 "$work/root/tmp/unitdiff-home"
  install -d -m 0700 -o 65534 -g 65534 "$work/root/tmp/unitdiff-run"
  chroot "$work/root" setpriv --reuid=65534 --regid=65534 --clear-groups \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/tmp/unitdiff-home \
    XDG_RUNTIME_DIR=/tmp/unitdiff-run SYSTEMD_UNIT_PATH="$path" /usr/lib/systemd/systemd \
    --test --user --unit=unitdiff-oracle.target --no-pager > "$work/dump.txt" 2> "$work/stderr.txt" || true
else
  chroot "$work/root" setpriv --reuid=65534 --regid=65534 --clear-groups \
    env HOME=/ SYSTEMD_UNIT_PATH="$path" /usr/lib/systemd/systemd --test --system \
    --unit=unitdiff-oracle.target --no-pager > "$work/dump.txt" 2> "$work/stderr.txt" || true
fi
if ! grep -q 'Unit unitdiff-oracle.target:' "$work/dump.txt"; then
  echo "error: the image's systemd dumped no units; its stderr ends with:" >&2
  grep -v '^Failed to open' "$work/stderr.txt" | tail -n 15 >&2
  exit 1
fi

python3 - "$work/ours.json" "$work/dump.txt" <<'PY'
import json, re, sys
g = json.load(open(sys.argv[1]))
ours = {}
for e in g["edges"]:
    origins = {e["origin"]} | {a["origin"] for a in e.get("also", [])}
    ours[(e["from"], e["kind"], e["to"])] = origins
units = {u["name"] for u in g["units"]}
theirs, cur, host = {}, None, set()
kinds = set("Requires Requisite Wants BindsTo PartOf Upholds Conflicts Before After OnFailure OnSuccess "
            "PropagatesReloadTo ReloadPropagatedFrom PropagatesStopTo StopPropagatedFrom JoinsNamespaceOf "
            "Triggers TriggeredBy InSlice".split())
for line in open(sys.argv[2], errors="replace"):
    m = re.match(r"^\t(?:->|\u2192) Unit (.*):$", line)
    if m:
        cur = m.group(1)
        continue
    m = re.match(r"^\t\t(\w+): (\S+) \((.*)\)$", line)
    if cur and m and m.group(1) in kinds:
        origins = {w[len("origin-"):] for w in m.group(3).split() if w.startswith("origin-")}
        host_masks = {"mountinfo", "udev", "proc-swap"}
        if origins & host_masks:
            host.add(m.group(2))
        origins -= host_masks
        if origins and cur != "unitdiff-oracle.target":
            theirs[(cur, m.group(1), m.group(2))] = origins
# Units only the host made (mounts, devices), and edges to them, are not the image's.
theirs = {k: v for k, v in theirs.items() if k[0] in units and (k[2] in units or k[2] not in host)}
def norm(k, o):
    o = set(o)
    if k[1] in ("After", "Requires", "Wants") and k[2].endswith(".mount") and o & {"file", "implicit", "path"}:
        o = (o - {"file", "implicit", "path"}) | {"path"}
    return frozenset(o)
def report(name, sel):
    t = {k: norm(k, v) for k, v in theirs.items() if sel(norm(k, v))}
    o = {k: norm(k, v) for k, v in ours.items() if sel(norm(k, v))}
    both = sum(1 for k in t if k in o and o[k] == t[k])
    print(f"{name}: systemd {len(t)} edges, ours {len(o)}; "
          f"systemd's found in ours with same origin: {both}/{len(t)} = {100*both/max(len(t),1):.2f}%; "
          f"ours found in systemd's: {sum(1 for k in o if k in t)}/{len(o)} = {100*sum(1 for k in o if k in t)/max(len(o),1):.2f}%")
    for k in sorted(set(t) - set(o))[:15]: print("  systemd only:", *k, sorted(t[k]))
    for k in sorted(set(o) - set(t))[:15]: print("  ours only:   ", *k, sorted(o[k]))
    for k in sorted(k for k in t if k in o and o[k] != t[k])[:15]: print("  origin:      ", *k, "ours", sorted(o[k]), "systemd", sorted(t[k]))
report("origin-file edges", lambda v: "file" in v)
report("all edges", lambda v: True)
PY
