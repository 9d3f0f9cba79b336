#!/usr/bin/env bash
# Render every ```mermaid block of a Markdown file with the real Mermaid renderer
# (mermaid-cli, `mmdc`) and fail if any block does not parse.
#
#   scripts/check-mermaid.sh REPORT.md [OUTDIR]
#
# Writes OUTDIR/NAME-N.mmd, NAME-N.svg and NAME-N.png for each block N (1, 2, ...), where
# NAME is the Markdown file's name without .md; OUTDIR defaults to $MERMAID_CHECK/out.
# Exit status: 0 every block rendered, 1 a block failed to parse or render, 2 usage/setup.
#
# One-time setup (outside the repo; needs only the npm registry and Debian's packages).
# mermaid-cli 12.x needs Node >= 22.13; 11.17.0 is the newest that runs on Node 20.
# Puppeteer must not download its own browser: it uses Debian's chromium instead.
#
#   apt-get update && apt-get install -y chromium fonts-dejavu-core
#   mkdir -p /tmp/mermaid-check && cd /tmp/mermaid-check && npm init -y
#   PUPPETEER_SKIP_DOWNLOAD=1 npm install @mermaid-js/mermaid-cli@11.17.0
#   echo '{"executablePath":"/usr/bin/chromium","args":["--no-sandbox","--disable-gpu","--headless"]}' \
#     > /tmp/mermaid-check/puppeteer.json
#
# Then, e.g.:
#   ./target/debug/unitdiff diff fixtures/coreos-899 fixtures/coreos-1010 --format markdown > /tmp/r.md
#   scripts/check-mermaid.sh /tmp/r.md
set -uo pipefail

MERMAID_CHECK=${MERMAID_CHECK:-/tmp/mermaid-check}
MMDC=$MERMAID_CHECK/node_modules/.bin/mmdc
PCONF=$MERMAID_CHECK/puppeteer.json

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -f "$1" ]; then
    echo "usage: $0 REPORT.md [OUTDIR]" >&2
    exit 2
fi
if [ ! -x "$MMDC" ] || [ ! -f "$PCONF" ]; then
    echo "$0: no $MMDC or $PCONF: run the setup commands at the top of this script" >&2
    exit 2
fi

md=$1
outdir=${2:-$MERMAID_CHECK/out}
name=$(basename "$md" .md)
mkdir -p "$outdir"
rm -f "$outdir/$name"-[0-9]*.mmd "$outdir/$name"-[0-9]*.svg "$outdir/$name"-[0-9]*.png

# Split the blocks: an opening fence of 3+ backticks (up to 3 spaces of indent) with info
# string "mermaid", closed by a backtick fence at least as long, as CommonMark does.
awk -v dir="$outdir" -v name="$name" '
    !inb && match($0, /^(   |  | )?```+[ \t]*mermaid([ \t].*)?$/) {
        s = $0; sub(/^ */, "", s); fl = 0
        while (substr(s, fl + 1, 1) == "`") fl++
        n++; inb = 1; file = sprintf("%s/%s-%d.mmd", dir, name, n)
        printf "" > file; start[n] = NR; next
    }
    inb {
        s = $0; sub(/^ */, "", s); k = 0
        while (substr(s, k + 1, 1) == "`") k++
        if (k >= fl && s ~ /^`+[ \t]*$/ && length($0) - length(s) <= 3) { inb = 0; close(file); next }
        print >> file
    }
    END {
        if (inb) printf "%s: block %d (line %d) has no closing fence\n", FILENAME, n, start[n] > "/dev/stderr"
        for (i = 1; i <= n; i++) printf "%d %d\n", i, start[i]
        if (inb) exit 3
    }
' "$md" > "$outdir/$name.blocks"
awk_rc=$?

nblocks=$(wc -l < "$outdir/$name.blocks")
if [ "$nblocks" -eq 0 ]; then
    echo "$md: no mermaid block"
    exit $([ $awk_rc -eq 0 ] && echo 0 || echo 1)
fi

fail=$([ $awk_rc -eq 0 ] && echo 0 || echo 1)
while read -r i mdline; do
    mmd=$outdir/$name-$i.mmd
    for ext in svg png; do
        args=(-p "$PCONF" -i "$mmd" -o "$outdir/$name-$i.$ext" -q)
        [ "$ext" = png ] && args+=(-s 2 -b white)
        if ! err=$("$MMDC" "${args[@]}" 2>&1 >/dev/null); then
            fail=1
            echo "FAIL $md block $i (Markdown line $mdline) -> $ext:"
            # mmdc's own message: everything before the stack trace.
            printf '%s\n' "$err" | sed -n '1,/^ *at \|^Parser\./p' | grep -v '^ *at \|^Parser\.\|^$' | sed 's/^/    /'
            # Mermaid counts lines in the diagram text: show that line and where it is in $md.
            ln=$(printf '%s\n' "$err" | sed -n 's/.*Parse error on line \([0-9][0-9]*\).*/\1/p' | head -1)
            if [ -n "$ln" ]; then
                echo "    offending line (diagram line $ln, $md:$((mdline + ln))):"
                echo "    $(sed -n "${ln}p" "$mmd")"
            fi
            break
        fi
    done
    [ -f "$outdir/$name-$i.png" ] && echo "ok   $md block $i (Markdown line $mdline): $outdir/$name-$i.png $outdir/$name-$i.svg"
done < "$outdir/$name.blocks"
rm -f "$outdir/$name.blocks"
exit "$fail"
