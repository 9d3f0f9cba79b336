#!/usr/bin/env bash
# The hostile images of issue 14, and the time and peak memory of every command on each.
#
#   scripts/hostile-images.sh make DIR        # write the images under DIR
#   scripts/hostile-images.sh measure DIR     # make them if needed, then run every command
#                                             # on each with /usr/bin/time (release build)
#
# `measure` prints one Markdown table row per run: case, command, exit status, seconds of
# wall-clock and CPU time (user + system), peak resident memory (`/usr/bin/time -f '%e %U %S
# %M'`), and stdout bytes.
# Output goes to /dev/null through a byte counter; stderr is kept for the warnings.
# docs/limits.md records a run of it. Needs only bash, coreutils and awk (and Graphviz `dot`
# for the `--renderer graphviz` rows, skipped without it).
set -euo pipefail

SYS=usr/lib/systemd/system
ETC=etc/systemd/system

svc() { printf '[Unit]\n%s\n[Service]\nExecStart=/bin/true\n' "$1"; }

# chain DIR N KIND [LAST-EXTRA]: c0 KIND= c1 KIND= … c(N-1).
chain() {
    local dir=$1 n=$2 kind=$3 extra=${4:-}
    mkdir -p "$dir/$SYS" "$dir/$ETC"
    awk -v n="$n" -v kind="$kind" -v dir="$dir/$SYS" -v extra="$extra" 'BEGIN {
        for (i = 0; i < n; i++) {
            f = dir "/c" i ".service"
            printf "[Unit]\n" > f
            if (i + 1 < n) printf "%s=c%d.service\n", kind, i + 1 > f
            else if (extra != "") printf "%s\n", extra > f
            printf "[Service]\nExecStart=/bin/true\n" > f
            close(f)
        }
    }'
}

make_images() {
    local d=$1
    rm -rf "$d"
    mkdir -p "$d"

    # An empty image: the other side of diffs.
    mkdir -p "$d/empty/$SYS"

    # slices: a 35 KB slice.d/ drop-in naming 3,000 slices; every slice gets the drop-in.
    mkdir -p "$d/slices/$SYS" "$d/slices/$ETC/slice.d"
    svc 'Wants=s1.slice' > "$d/slices/$SYS/x.service"
    { printf '[Unit]\nWants='; seq -f 's%g.slice' 0 2999 | tr '\n' ' '; printf '\n'; } \
        > "$d/slices/$ETC/slice.d/x.conf"

    # render300: the same with 300 slices (3 KB), small enough for the picture budget.
    mkdir -p "$d/render300/$SYS" "$d/render300/$ETC/slice.d"
    svc 'Wants=s1.slice' > "$d/render300/$SYS/x.service"
    { printf '[Unit]\nWants='; seq -f 's%g.slice' 0 299 | tr '\n' ' '; printf '\n'; } \
        > "$d/render300/$ETC/slice.d/x.conf"

    # twins: two ~100-byte templates instantiating each other under different prefixes.
    mkdir -p "$d/twins/$SYS"
    svc 'Wants=a@1.service' > "$d/twins/$SYS/x.service"
    svc 'Wants=b@0%i.service b@1%i.service' > "$d/twins/$SYS/a@.service"
    svc 'Wants=a@0%i.service a@1%i.service' > "$d/twins/$SYS/b@.service"

    # wide: a 288 KB template with 10,000 After= instantiated 1,000 times (10 M edges).
    mkdir -p "$d/wide/$SYS"
    svc "Wants=$(seq -f 't@%g.service' 0 999 | tr '\n' ' ')" > "$d/wide/$SYS/x.service"
    { printf '[Unit]\n'; seq -f 'After=wide-unit-%05g.service' 0 9999;
      printf '[Service]\nExecStart=/bin/true\n'; } > "$d/wide/$SYS/t@.service"

    # hostname: a 1 MB word of %H with a 64 KB /etc/hostname (32 GB expanded), and %o with
    # a 60 KB ID= in os-release.
    mkdir -p "$d/hostname/$SYS" "$d/hostname/etc"
    head -c 65536 /dev/zero | tr '\0' h > "$d/hostname/etc/hostname"
    { printf 'ID='; head -c 60000 /dev/zero | tr '\0' o; printf '\nVERSION_ID=1\n'; } \
        > "$d/hostname/etc/os-release"
    { printf '[Unit]\nWants='; head -c 500000 /dev/zero | sed 's/\x0/%H/g';
      printf '\nAfter='; head -c 1000 /dev/zero | sed 's/\x0/%o/g';
      printf '\n[Service]\nExecStart=/bin/true\n'; } > "$d/hostname/$SYS/x.service"

    # chain16k: a 16,000-unit Wants= chain (deps recursed once per level).
    chain "$d/chain16k" 16000 Wants

    # chain3k-old/-new: a 3,000-unit chain; NEW's c0 also wants extra.service.
    chain "$d/chain3k-old" 3000 Wants
    chain "$d/chain3k-new" 3000 Wants
    svc $'Wants=c1.service\nWants=extra.service' > "$d/chain3k-new/$SYS/c0.service"
    svc '' > "$d/chain3k-new/$SYS/extra.service"

    # witness-old/-new: a 1,000-unit Requires= chain; NEW adds one line at its end.
    chain "$d/witness-old" 1000 Requires
    chain "$d/witness-new" 1000 Requires 'Requires=extra.service'
    svc '' > "$d/witness-old/$SYS/extra.service"
    svc '' > "$d/witness-new/$SYS/extra.service"

    # continuation: one 800 KB Environment= of 100,000 continuation lines.
    mkdir -p "$d/continuation/$SYS"
    { printf '[Service]\nEnvironment='; seq -f 'V%g=1 \' 0 99999;
      printf 'END=1\nExecStart=/bin/true\n'; } > "$d/continuation/$SYS/x.service"

    # environ-old/-new: 40,000 Environment= lines (each value twice); NEW changes one.
    for side in old new; do
        mkdir -p "$d/environ-$side/$SYS"
        awk -v side="$side" 'BEGIN {
            printf "[Unit]\nDescription=many\n[Service]\nExecStart=/bin/true\n"
            for (i = 0; i < 40000; i++) {
                v = (side == "new" && i == 20000) ? 2 : 1
                printf "Environment=V%d=%d\nEnvironment=V%d=1\n", i, v, i
            }
        }' > "$d/environ-$side/$SYS/x.service"
    done

    # dropins-old/-new: 100,000 drop-ins of one unit, every one changed.
    for side in old new; do
        mkdir -p "$d/dropins-$side/$SYS" "$d/dropins-$side/$ETC/x.service.d"
        svc '' > "$d/dropins-$side/$SYS/x.service"
        awk -v side="$side" -v dir="$d/dropins-$side/$ETC/x.service.d" 'BEGIN {
            for (i = 0; i < 100000; i++) {
                f = sprintf("%s/%06d.conf", dir, i)
                printf "[Service]\nEnvironment=D%d=%s\n", i, side > f
                close(f)
            }
        }'
    done

    # floods: 200 services and a service.d/ drop-in naming 20,000 distinct invalid units.
    mkdir -p "$d/floods/$SYS" "$d/floods/$ETC/service.d"
    for i in $(seq 0 199); do svc '' > "$d/floods/$SYS/s$i.service"; done
    { printf '[Unit]\nWants='; seq -f 'bad%g' 0 19999 | tr '\n' ' '; printf '\n'; } \
        > "$d/floods/$ETC/service.d/x.conf"

    # dashes: a template with 117 dashes in its name, 1,000 instances, prefix drop-ins.
    mkdir -p "$d/dashes/$SYS" "$d/dashes/$ETC/a-.service.d"
    local stem
    stem=$(printf 'a-%.0s' $(seq 117))a
    svc '' > "$d/dashes/$SYS/$stem@.service"
    printf '[Unit]\nAfter=top.service\n' > "$d/dashes/$ETC/a-.service.d/10-top.conf"
    seq -f "Wants=$stem@%g.service" 0 999 | { printf '[Unit]\n'; cat; } \
        > "$d/dashes/$SYS/x.service"
}

# The cases: name, OLD (for diffs; "empty" for one-image cases), NEW, unit for deps/why/cat.
CASES=(
    "slices empty slices x.service"
    "render300 empty render300 x.service"
    "twins empty twins x.service"
    "wide empty wide x.service"
    "hostname empty hostname x.service"
    "chain16k empty chain16k c0.service"
    "chain3k chain3k-old chain3k-new c0.service"
    "witness witness-old witness-new c0.service"
    "continuation empty continuation x.service"
    "environ environ-old environ-new x.service"
    "dropins dropins-old dropins-new x.service"
    "dashes empty dashes x.service"
    "floods empty floods s1.service"
)

measure() {
    local d=$1 bin=${UNITDIFF:-target/release/unitdiff}
    [ -d "$d/empty" ] || make_images "$d"
    local log
    log=$(mktemp -d)
    echo "| case | command | exit | wall s | CPU s | peak RSS MB | stdout bytes |"
    echo "|---|---|---|---|---|---|---|"
    for c in "${CASES[@]}"; do
        # shellcheck disable=SC2086
        set -- $c
        local name=$1 old=$d/$2 new=$d/$3 unit=$4
        local cmds=()
        for f in text json markdown dot; do
            cmds+=("graph NEW --format $f" "diff OLD NEW --format $f")
        done
        cmds+=("diff OLD NEW -p" "check OLD NEW" "check OLD NEW --format sarif"
            "graph NEW --format svg --renderer builtin"
            "diff OLD NEW --format svg --renderer builtin"
            "diff OLD NEW --format png" "diff OLD NEW --format html" "check OLD NEW --format html")
        if command -v dot > /dev/null; then
            cmds+=("graph NEW --format svg --renderer graphviz"
                "diff OLD NEW --format svg --renderer graphviz")
        fi
        for f in text json; do
            cmds+=("deps NEW $unit --format $f" "deps OLD NEW $unit --format $f"
                "why NEW $unit system.slice --format $f")
        done
        cmds+=("deps NEW $unit --all" "deps NEW $unit --reverse" "cat NEW $unit")
        for cmd in "${cmds[@]}"; do
            local args=${cmd//OLD/$old}
            args=${args//NEW/$new}
            local code
            # shellcheck disable=SC2086
            /usr/bin/time -o "$log/time" -f '%e %U %S %M' "$bin" --no-pager $args \
                2> "$log/err" | wc -c > "$log/bytes" || true
            code=$(awk '/exited with non-zero status/ {print $NF} /terminated by signal/ {print "signal " $NF}' "$log/time")
            [ -n "$code" ] || code=0
            local wall user sys rss
            read -r wall user sys rss < <(tail -n 1 "$log/time")
            printf '| %s | `%s` | %s | %s | %s | %d | %s |\n' "$name" "$cmd" "$code" \
                "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" \
                $(( rss / 1024 )) "$(cat "$log/bytes")"
            if [ "$code" -gt 2 ] 2>/dev/null || grep -q 'panicked' "$log/err"; then
                sed 's/^/    /' "$log/err" | head -n 5 >&2
            fi
        done
    done
    rm -rf "$log"
}

case ${1:-} in
    make) make_images "$2" ;;
    measure) measure "$2" ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
esac
