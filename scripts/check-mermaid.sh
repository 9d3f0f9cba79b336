#!/usr/bin/env bash
# Render every ```mermaid block of a Markdown file with the real Mermaid renderer
# (mermaid-cli, `mmdc`, in a headless Chromium) and fail if any block does not render, or
# renders Mermaid's error picture instead of the diagram.
#
#   scripts/check-mermaid.sh --setup            install mermaid-cli (once)
#   scripts/check-mermaid.sh REPORT.md [OUTDIR] check a report
#
# Writes OUTDIR/NAME-N.mmd, NAME-N.svg and NAME-N.png for each block N (1, 2, ...), where
# NAME is the Markdown file's name without .md; OUTDIR defaults to $MERMAID_CHECK/out.
# Exit status: 0 every block rendered, 1 a block failed, 2 usage/setup.
#
# Mermaid's limits are checked by Mermaid itself, with its defaults as GitHub and GitLab
# use them: a diagram over `maxTextSize` (50,000 characters) does not fail mmdc, it renders
# a picture saying "Maximum text size in diagram exceeded" (detected here in the SVG); a
# diagram with more than `maxEdges` (500) edges, and a syntax error, make mmdc fail.
#
# --setup needs only the npm registry and Debian's chromium (`apt-get install chromium`).
# mermaid-cli 12.x needs Node >= 22.13; 11.x runs on Node 18.19 (Debian 12) and 20. Puppeteer must not download
# its own browser: it runs Debian's chromium, headless, without a sandbox (we run as root in
# CI) and without network features.
#
# e.g.:
#   ./target/debug/unitdiff diff fixtures/coreos-899 fixtures/coreos-1010 --format markdown > /tmp/r.md
#   scripts/check-mermaid.sh /tmp/r.md
set -uo pipefail

MERMAID_CHECK=${MERMAID_CHECK:-${XDG_CACHE_HOME:-$HOME/.cache}/unitdiff-mermaid}
MMDC=$MERMAID_CHECK/node_modules/.bin/mmdc
PCONF=$MERMAID_CHECK/puppeteer.json
MERMAID_CLI_VERSION=11.17.0

if [ "${1:-}" = --setup ]; then
    chromium=$(command -v chromium || command -v chromium-browser) || {
        echo "$0: no chromium: apt-get install chromium" >&2
        exit 2
    }
    mkdir -p "$MERMAID_CHECK" || exit 2
    cd "$MERMAID_CHECK" || exit 2
    [ -f package.json ] || npm init -y >/dev/null || exit 2
    if [ ! -x "$MMDC" ] || ! grep -q "\"version\": \"$MERMAID_CLI_VERSION\"" \
        node_modules/@mermaid-js/mermaid-cli/package.json 2>/dev/null; then
        PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund \
            "@mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION" || exit 2
    fi
    cat > "$PCONF" <<EOF
{"executablePath": "$chromium",
 "args": ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync"]}
EOF
    echo "mermaid-cli $MERMAID_CLI_VERSION in $MERMAID_CHECK, browser $chromium"
    exit 0
fi

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -f "$1" ]; then
    echo "usage: $0 --setup | $0 REPORT.md [OUTDIR]" >&2
    exit 2
fi
if [ ! -x "$MMDC" ] || [ ! -f "$PCONF" ]; then
    echo "$0: no $MMDC or $PCONF: run $0 --setup" >&2
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

# What Mermaid draws instead of a diagram it refuses (its error pictures).
errors='Maximum text size in diagram exceeded|Syntax error in text|aria-roledescription="error"'

fail=$([ $awk_rc -eq 0 ] && echo 0 || echo 1)
while read -r i mdline; do
    mmd=$outdir/$name-$i.mmd
    ok=1
    for ext in svg png; do
        args=(-p "$PCONF" -i "$mmd" -o "$outdir/$name-$i.$ext" -q)
        [ "$ext" = png ] && args+=(-s 2 -b white)
        if ! err=$("$MMDC" "${args[@]}" 2>&1 >/dev/null); then
            ok=0
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
        if [ "$ext" = svg ] && msg=$(grep -oE "$errors" "$outdir/$name-$i.svg" | head -1) && [ -n "$msg" ]; then
            ok=0
            echo "FAIL $md block $i (Markdown line $mdline): Mermaid drew its error picture: $msg"
            echo "    ($(wc -m < "$mmd") characters, $(grep -cE -- '--|==|-\.' "$mmd") edge lines)"
            break
        fi
    done
    if [ $ok = 1 ]; then
        echo "ok   $md block $i (Markdown line $mdline, $(wc -m < "$mmd") characters): $outdir/$name-$i.png $outdir/$name-$i.svg"
    else
        fail=1
    fi
done < "$outdir/$name.blocks"
rm -f "$outdir/$name.blocks"
exit "$fail"
