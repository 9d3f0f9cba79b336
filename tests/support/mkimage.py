#!/usr/bin/env python3
"""Build container images from layer directories, as the tools that make them would.

usage: mkimage.py OUT LAYER_DIR...

Writes into OUT:
  oci/          an OCI image layout (layer 1 gzip-compressed, the others plain tar)
  oci.tar       the same layout as an OCI archive
  docker.tar    a legacy `docker save` archive (manifest.json, <id>/layer.tar)
  docker25.tar  a Docker 25+ `docker save` archive (OCI layout plus manifest.json)

Whiteouts are ordinary files named `.wh.*` in the layer directories. Symlinks stay
symlinks. Owners and times are fixed so the output is reproducible.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def layer_tar(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                info = t.gettarinfo(full, arcname=rel)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isreg():
                    with open(full, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def add_bytes(t, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    t.addfile(info, io.BytesIO(data))


def main():
    out, layers = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    raw = [layer_tar(d) for d in layers]
    diff_ids = ["sha256:" + sha(r) for r in raw]
    history = []
    for i, _ in enumerate(raw):
        history.append({"created_by": f"/bin/sh -c #(nop) ADD layer{i + 1}", "created": "1970-01-01T00:00:00Z"})
        history.append({"created_by": f"/bin/sh -c #(nop) LABEL step={i + 1}", "empty_layer": True})
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }, sort_keys=True).encode()
    blobs = {}
    layer_descs = []
    for i, r in enumerate(raw):
        if i == 0:
            b = gzip.compress(r, mtime=0)
            mt = "application/vnd.oci.image.layer.v1.tar+gzip"
        else:
            b, mt = r, "application/vnd.oci.image.layer.v1.tar"
        blobs[sha(b)] = b
        layer_descs.append({"mediaType": mt, "digest": "sha256:" + sha(b), "size": len(b)})
    blobs[sha(config)] = config
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + sha(config), "size": len(config)},
        "layers": layer_descs,
    }, sort_keys=True).encode()
    blobs[sha(manifest)] = manifest
    index = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + sha(manifest), "size": len(manifest),
                       "platform": {"os": "linux", "architecture": "amd64"},
                       "annotations": {"org.opencontainers.image.ref.name": "test:1"}}],
    }, sort_keys=True).encode()
    layout = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()

    d = os.path.join(out, "oci")
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
    for h, b in blobs.items():
        with open(os.path.join(d, "blobs", "sha256", h), "wb") as f:
            f.write(b)
    with open(os.path.join(d, "index.json"), "wb") as f:
        f.write(index)
    with open(os.path.join(d, "oci-layout"), "wb") as f:
        f.write(layout)

    with tarfile.open(os.path.join(out, "oci.tar"), "w") as t:
        add_bytes(t, "oci-layout", layout)
        add_bytes(t, "index.json", index)
        for h in sorted(blobs):
            add_bytes(t, f"blobs/sha256/{h}", blobs[h])

    with tarfile.open(os.path.join(out, "docker.tar"), "w") as t:
        cfg_name = sha(config) + ".json"
        add_bytes(t, cfg_name, config)
        names = []
        for i, r in enumerate(raw):
            lid = sha(r)
            add_bytes(t, f"{lid}/layer.tar", r)
            add_bytes(t, f"{lid}/VERSION", b"1.0")
            names.append(f"{lid}/layer.tar")
        add_bytes(t, "manifest.json", json.dumps(
            [{"Config": cfg_name, "RepoTags": ["test:1"], "Layers": names}]).encode())
        add_bytes(t, "repositories", json.dumps({"test": {"1": sha(raw[-1])}}).encode())

    with tarfile.open(os.path.join(out, "docker25.tar"), "w") as t:
        add_bytes(t, "oci-layout", layout)
        # Docker's own index.json can be incomplete: manifest.json must win.
        add_bytes(t, "index.json", json.dumps({"schemaVersion": 2, "manifests": []}).encode())
        add_bytes(t, f"blobs/sha256/{sha(config)}", config)
        names = []
        for r in raw:
            add_bytes(t, f"blobs/sha256/{sha(r)}", r)
            names.append(f"blobs/sha256/{sha(r)}")
        add_bytes(t, "manifest.json", json.dumps(
            [{"Config": f"blobs/sha256/{sha(config)}", "RepoTags": ["test:1"], "Layers": names}]).encode())


if __name__ == "__main__":
    main()
