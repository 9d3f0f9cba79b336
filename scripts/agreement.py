#!/usr/bin/env python3
"""Compare unitdiff's edges with a systemd `--test` dump (helper of measure-agreement.sh).

  agreement.py target OURS.json OUT.target
      write a target that Wants= every unit unitdiff knows in that image
  agreement.py graph OURS.json DUMP
      agreement of one image's graph with its own systemd's dump, both directions
  agreement.py diff OLD.json OLD.dump NEW.json NEW.dump DIFF.json [MIXED.dump]
      agreement of `unitdiff diff OLD NEW` (added and removed edges) with
      dump(NEW) - dump(OLD) and dump(OLD) - dump(NEW); with MIXED.dump (OLD's systemd run
      on NEW's unit files), also of the edges the diff attributes to the systemd upgrade
      with the dump differences that OLD's systemd does not make from NEW's files.

An edge is (unit, dependency kind, unit); its origin is systemd's origin mask. Mount edges
of paths are counted under one origin, `path`: systemd records `After=-.mount` with the
origin of the setting that asked for it when the mount unit was loaded first, which depends
on load order, not on the files.
"""
import json
import re
import sys

KINDS = set(
    "Requires Requisite Wants BindsTo PartOf Upholds Conflicts Before After OnFailure OnSuccess "
    "PropagatesReloadTo ReloadPropagatedFrom PropagatesStopTo StopPropagatedFrom JoinsNamespaceOf "
    "Triggers TriggeredBy InSlice".split()
)
# Origins of units the host made (its mounts, devices, swaps), not the image.
HOST_MASKS = {"mountinfo", "udev", "proc-swap"}
ORACLE = "unitdiff-oracle.target"


def norm(key, origins):
    o = set(origins)
    if key[1] in ("After", "Requires", "Wants") and key[2].endswith(".mount") and o & {"file", "implicit", "path"}:
        o = (o - {"file", "implicit", "path"}) | {"path"}
    return frozenset(o)


def ours_graph(path):
    g = json.load(open(path))
    edges = {}
    for e in g["edges"]:
        k = (e["from"], e["kind"], e["to"])
        edges[k] = norm(k, {e["origin"]} | {a["origin"] for a in e.get("also", [])})
    return {u["name"] for u in g["units"]}, edges


def theirs_dump(path, units):
    """The dump's edges (with origin masks) between the image's units."""
    edges, cur, host = {}, None, set()
    for line in open(path, errors="replace"):
        m = re.match(r"^\t(?:->|\u2192) Unit (.*):$", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"^\t\t(\w+): (\S+) \((.*)\)$", line)
        if cur and m and m.group(1) in KINDS:
            words = m.group(3).split()
            origins = {w[len("origin-"):] for w in words if w.startswith("origin-")}
            if m.group(1) == "JoinsNamespaceOf":
                # Symmetric from 254: systemd records the other unit's side with the
                # destination mask only; unitdiff lists it as an edge of the file that wrote it.
                origins |= {w[len("destination-"):] for w in words if w.startswith("destination-")}
            if origins & HOST_MASKS:
                host.add(m.group(2))
            origins -= HOST_MASKS
            if origins and cur != ORACLE:
                k = (cur, m.group(1), m.group(2))
                edges[k] = norm(k, origins)
    # Units only the host made (mounts, devices), and edges to them, are not the image's.
    return {k: v for k, v in edges.items() if k[0] in units and (k[2] in units or k[2] not in host)}


def show(label, keys, limit):
    keys = sorted(keys)
    for k in keys[:limit]:
        print(f"  {label}", *k)
    if len(keys) > limit:
        print(f"  … and {len(keys) - limit} more {label.strip().rstrip(':')}")


def pct(a, b):
    return f"{a}/{b} = {100 * a / b:.2f}%" if b else "0/0"


def compare(name, theirs, ours, limit=15):
    """Both directions, by edge; `theirs`/`ours` map an edge to its origins."""
    same = sum(1 for k in theirs if k in ours and ours[k] == theirs[k])
    found = sum(1 for k in ours if k in theirs)
    print(f"{name}: systemd {len(theirs)} edges, ours {len(ours)}; "
          f"systemd's found in ours: {pct(sum(1 for k in theirs if k in ours), len(theirs))} "
          f"(same origin: {pct(same, len(theirs))}); ours found in systemd's: {pct(found, len(ours))}")
    show("systemd only:", set(theirs) - set(ours), limit)
    show("ours only:   ", set(ours) - set(theirs), limit)
    for k in sorted(k for k in theirs if k in ours and ours[k] != theirs[k])[:limit]:
        print("  origin:      ", *k, "ours", sorted(ours[k]), "systemd", sorted(theirs[k]))


def cmd_target(ours, out):
    names = sorted(u["name"] for u in json.load(open(ours))["units"])
    with open(out, "w") as f:
        f.write("[Unit]\nDefaultDependencies=no\n")
        for n in names:
            f.write(f"Wants={n}\n")


def cmd_graph(ours_json, dump):
    units, ours = ours_graph(ours_json)
    theirs = theirs_dump(dump, units)
    compare("origin-file edges", {k: v for k, v in theirs.items() if "file" in v},
            {k: v for k, v in ours.items() if "file" in v})
    compare("all edges", theirs, ours)


def diff_edges(side):
    out = {}
    for e in side:
        k = (e["from"], e["kind"], e["to"])
        out[k] = (norm(k, {e["origin"]} | {a["origin"] for a in e.get("also", [])}), e.get("cause"))
    return out


def cmd_diff(old_json, old_dump, new_json, new_dump, diff_json, mixed_dump=None):
    old_units, _ = ours_graph(old_json)
    new_units, _ = ours_graph(new_json)
    told = theirs_dump(old_dump, old_units)
    tnew = theirs_dump(new_dump, new_units)
    d = json.load(open(diff_json))
    print(f"systemd {d['old']['systemd']} -> {d['new']['systemd']}")
    added = diff_edges(d["edges"]["added"])
    removed = diff_edges(d["edges"]["removed"])
    t_added = {k: v for k, v in tnew.items() if k not in told}
    t_removed = {k: v for k, v in told.items() if k not in tnew}
    compare("added edges (dump(NEW) - dump(OLD))", t_added, {k: v[0] for k, v in added.items()}, 40)
    compare("removed edges (dump(OLD) - dump(NEW))", t_removed, {k: v[0] for k, v in removed.items()}, 40)
    both = {**t_added, **t_removed}
    ours = {**{k: v[0] for k, v in added.items()}, **{k: v[0] for k, v in removed.items()}}
    compare("all changed edges", both, ours, 0)
    if mixed_dump is None:
        return
    # OLD's systemd on NEW's files: what NEW's files give under OLD's rules.
    tmixed = theirs_dump(mixed_dump, new_units)
    t_up_added = {k: v for k, v in t_added.items() if k not in tmixed}
    t_up_removed = {k: v for k, v in t_removed.items() if k in tmixed}
    up = lambda side: {k: v[0] for k, v in side.items() if v[1] == "systemd-upgrade"}
    compare("added by the systemd upgrade (not in dump(OLD), not in OLD's systemd on NEW's files)",
            t_up_added, up(added), 100)
    show("both say the upgrade adds:", set(t_up_added) & set(up(added)), 100)
    compare("removed by the systemd upgrade (in dump(OLD) and in OLD's systemd on NEW's files)",
            t_up_removed, up(removed), 100)
    show("both say the upgrade removes:", set(t_up_removed) & set(up(removed)), 100)
    # Same edge, origin changed by the upgrade alone (the dump of OLD's systemd on NEW's files
    # has the edge with another origin mask): unitdiff reports these as moved.
    t_moved = {k for k in tnew if k in told and k in tmixed and tmixed[k] != tnew[k]}
    print(f"edges whose origin the upgrade alone changes (systemd): {len(t_moved)}")
    show("origin changed by the upgrade:", t_moved, 100)


def main(argv):
    cmds = {"target": (cmd_target, 2), "graph": (cmd_graph, 2), "diff": (cmd_diff, 5)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 < cmds[argv[1]][1]:
        sys.exit(__doc__)
    cmds[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
