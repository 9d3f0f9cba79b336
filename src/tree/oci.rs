//! Container images: OCI image layouts (a directory or an OCI archive, the same layout in a
//! tar) and `docker save` archives (legacy, and the OCI-based layout of Docker 25+).
//!
//! `manifest.json` is preferred when present (Docker's `index.json` can be empty or
//! incomplete); otherwise `index.json` is walked (nested indexes included) and one image is
//! chosen by `--platform` and/or ref name, or the choices are listed. Every blob read is
//! checked against its digest (layers while they stream); layers are applied in order with
//! whiteouts ([`super::archive`]); each layer's digest and `created_by` history line are kept
//! for provenance. Blobs are read in place (a seek into an uncompressed archive), never
//! extracted.

use super::archive::{self, Mode};
use super::mem::{ImageLayer, MemTree};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Largest JSON document (index, manifest, config) read.
const MAX_JSON: u64 = 8 * 1024 * 1024;
/// Deepest nesting of indexes followed.
const MAX_INDEX_DEPTH: usize = 4;
/// Most layers in one image.
const MAX_LAYERS: usize = 1000;
/// Most entries in an image archive (blobs and their directories).
const MAX_ARCHIVE_ENTRIES: usize = 100_000;

/// Which image of an index to read.
#[derive(Clone, Debug, Default)]
pub struct Select {
    /// `os/arch[/variant]`.
    pub platform: Option<String>,
    /// A ref name (`org.opencontainers.image.ref.name`, a docker `RepoTags` entry).
    pub reference: Option<String>,
}

/// Where the blobs of an image are.
pub enum Store {
    /// An image layout or extracted `docker save` directory.
    Dir(PathBuf),
    /// An uncompressed tar: file name → (offset, size) of its contents.
    Tar {
        file: File,
        index: HashMap<String, (u64, u64)>,
    },
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Store {
    /// Index an uncompressed tar by seeking over its headers (contents are not read).
    pub fn tar(path: &Path) -> io::Result<Store> {
        let file = File::open(path)?;
        let mut index = HashMap::new();
        {
            let mut ar = tar::Archive::new(&file);
            for e in ar.entries_with_seek()? {
                let e = e?;
                if index.len() >= MAX_ARCHIVE_ENTRIES {
                    return Err(bad(format!(
                        "more than {MAX_ARCHIVE_ENTRIES} entries in an image archive"
                    )));
                }
                if !e.header().entry_type().is_file() {
                    continue;
                }
                if let Ok(Some(p)) = archive::sanitise(&e.path_bytes()) {
                    index.insert(p.relative().to_string(), (e.raw_file_position(), e.size()));
                }
            }
        }
        Ok(Store::Tar { file, index })
    }

    pub fn has(&self, name: &str) -> bool {
        match self {
            Store::Dir(root) => std::fs::symlink_metadata(root.join(name))
                .map(|m| m.is_file())
                .unwrap_or(false),
            Store::Tar { index, .. } => index.contains_key(name),
        }
    }

    /// A reader over the file `name` (relative, no `..`) and its size.
    fn open(&self, name: &str) -> io::Result<(Box<dyn Read + '_>, u64)> {
        if name.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(bad(format!("{name}: not a plain relative path")));
        }
        match self {
            Store::Dir(root) => {
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                    .open(root.join(name))
                    .map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
                let m = f.metadata()?;
                if !m.is_file() {
                    return Err(bad(format!("{name}: not a regular file")));
                }
                Ok((Box::new(f), m.len()))
            }
            Store::Tar { file, index } => {
                let &(off, size) = index.get(name).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{name}: not in the archive"),
                    )
                })?;
                let mut f = file.try_clone()?;
                f.seek(SeekFrom::Start(off))?;
                Ok((Box::new(f.take(size)), size))
            }
        }
    }

    /// The size of the file `name`, if it is there.
    fn size(&self, name: &str) -> Option<u64> {
        self.open(name).ok().map(|(_, size)| size)
    }

    fn read_small(&self, name: &str) -> io::Result<Vec<u8>> {
        let (r, size) = self.open(name)?;
        if size > MAX_JSON {
            return Err(bad(format!(
                "{name}: {size} bytes, too large for a JSON document"
            )));
        }
        let mut buf = Vec::new();
        r.take(MAX_JSON).read_to_end(&mut buf)?;
        Ok(buf)
    }
}

/// `sha256:<64 hex>` → `blobs/sha256/<hex>`.
fn blob_path(digest: &str) -> io::Result<String> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| bad(format!("{digest}: only sha256 digests are supported")))?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad(format!("{digest}: malformed digest")));
    }
    Ok(format!("blobs/sha256/{hex}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn check(digest: &str, bytes: &[u8], what: &str) -> io::Result<()> {
    let got = format!("sha256:{}", sha256_hex(bytes));
    if got != digest {
        return Err(bad(format!(
            "{what}: digest mismatch (expected {digest}, blob has {got})"
        )));
    }
    Ok(())
}

/// Hashes everything read through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

#[derive(Deserialize, Clone, Debug, Default)]
struct Platform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl Platform {
    fn show(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{v}", self.os, self.architecture),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }

    fn matches(&self, want: &str) -> bool {
        let mut w = want.split('/');
        let (os, arch, variant) = (w.next(), w.next(), w.next());
        os == Some(self.os.as_str())
            && arch.is_none_or(|a| a == self.architecture)
            && variant.is_none_or(|v| self.variant.as_deref() == Some(v))
    }
}

#[derive(Deserialize, Clone, Debug)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize, Default)]
struct History {
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    empty_layer: bool,
}

#[derive(Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Config {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    history: Vec<History>,
    #[serde(default)]
    rootfs: RootFs,
}

impl Config {
    fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone(),
        }
    }

    /// `created_by` of each non-empty layer, in order.
    fn layer_history(&self) -> Vec<Option<String>> {
        self.history
            .iter()
            .filter(|h| !h.empty_layer)
            .map(|h| h.created_by.clone())
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

fn json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| bad(format!("{what}: not valid JSON for it: {e}")))
}

/// One image to read: its layers (blob name, digest to check, reported digest).
struct Plan {
    describe: String,
    layers: Vec<(String, String)>,
    history: Vec<Option<String>>,
}

/// Whether a store holds a container image (and which kind).
pub fn kind_of(store: &Store) -> Option<&'static str> {
    if store.has("manifest.json") {
        Some("docker archive")
    } else if store.has("oci-layout") || store.has("index.json") {
        Some("OCI image")
    } else {
        None
    }
}

/// Read the image in `store` into a new tree.
pub fn read(store: &Store, sel: &Select, what: &str) -> io::Result<MemTree> {
    let plan = if store.has("manifest.json") {
        docker_plan(store, sel)?
    } else {
        oci_plan(store, sel, what)?
    };
    let mut tree = MemTree::new(plan.describe.clone());
    let total = plan.layers.len();
    // One decompression allowance for the whole image, from the compressed size of its
    // distinct layer blobs: a blob listed many times is counted once, so repeating a layer
    // (legal, and read again each time) cannot multiply the work.
    let mut distinct = std::collections::HashSet::new();
    let compressed: u64 = plan
        .layers
        .iter()
        .filter(|(name, _)| distinct.insert(name.as_str()))
        .filter_map(|(name, _)| store.size(name))
        .fold(0, u64::saturating_add);
    let allowance = archive::Allowance::shared(archive::decompressed_limit(compressed));
    for (i, (name, digest)) in plan.layers.iter().enumerate() {
        tree.push_layer(ImageLayer {
            index: i + 1,
            digest: digest.clone(),
            created_by: plan.history.get(i).cloned().flatten(),
        });
        let (r, size) = store.open(name).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                bad(format!(
                    "layer {} of {total} ({digest}) is missing: {e}",
                    i + 1
                ))
            } else {
                e
            }
        })?;
        let mut h = Hashing {
            inner: r,
            hash: Sha256::new(),
        };
        let read = archive::decompress_within(&mut h, &allowance)
            .and_then(|(dec, _)| archive::read_tar(dec, &mut tree, Mode::Layer));
        // Hash the rest (padding after the tar's end, or what a broken tar left unread)
        // so the whole blob is checked; a wrong digest explains a broken layer best.
        let drained = io::copy(&mut (&mut h).take(size), &mut io::sink());
        let got = format!("sha256:{}", hex::encode(h.hash.finalize()));
        if drained.is_ok() && &got != digest {
            return Err(bad(format!(
                "layer {} of {total}: digest mismatch (expected {digest}, blob has {got})",
                i + 1
            )));
        }
        read.map_err(|e| bad(format!("layer {} of {total} ({digest}): {e}", i + 1)))?;
        drained?;
    }
    Ok(tree)
}

fn docker_plan(store: &Store, sel: &Select) -> io::Result<Plan> {
    let entries: Vec<DockerEntry> = json(&store.read_small("manifest.json")?, "manifest.json")?;
    let mut cands = Vec::new();
    for e in entries {
        let cfg_bytes = store.read_small(&e.config)?;
        if let Some(hex) = e
            .config
            .strip_prefix("blobs/sha256/")
            .or_else(|| e.config.strip_suffix(".json"))
            && hex.len() == 64
        {
            check(&format!("sha256:{hex}"), &cfg_bytes, &e.config)?;
        }
        let cfg: Config = json(&cfg_bytes, &e.config)?;
        let tags = e.repo_tags.clone().unwrap_or_default();
        let keep = sel
            .reference
            .as_ref()
            .is_none_or(|r| tags.iter().any(|t| ref_matches(t, r)))
            && sel
                .platform
                .as_ref()
                .is_none_or(|p| cfg.platform().matches(p));
        cands.push((e, cfg, tags, sha256_hex(&cfg_bytes), keep));
    }
    let listing = |c: &[(DockerEntry, Config, Vec<String>, String, bool)]| {
        c.iter()
            .map(|(_, cfg, tags, d, _)| {
                format!(
                    "{} {} (config sha256:{})",
                    if tags.is_empty() {
                        "<untagged>".to_string()
                    } else {
                        tags.join(",")
                    },
                    cfg.platform().show(),
                    &d[..12]
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let all = listing(&cands);
    let chosen: Vec<_> = cands.into_iter().filter(|c| c.4).collect();
    let (e, cfg, tags, digest, _) = match chosen.len() {
        1 => chosen.into_iter().next().expect("one"),
        0 => {
            return Err(bad(format!(
                "no image matches the --platform/--image-ref given; the archive has: {all}"
            )));
        }
        _ => {
            return Err(bad(format!(
                "the archive holds several images; choose one with --image-ref or --platform: {}",
                listing(&chosen)
            )));
        }
    };
    if e.layers.len() > MAX_LAYERS {
        return Err(bad(format!("more than {MAX_LAYERS} layers")));
    }
    let mut layers = Vec::new();
    for (i, l) in e.layers.iter().enumerate() {
        // Docker 25+: `blobs/sha256/<hex>`; legacy: `<id>/layer.tar`, whose digest is the
        // config's diff_id (the layer is stored uncompressed).
        let d =
            match l.strip_prefix("blobs/sha256/") {
                Some(hex) => format!("sha256:{hex}"),
                None => cfg.rootfs.diff_ids.get(i).cloned().ok_or_else(|| {
                    bad(format!("{l}: no diff_id for layer {} in the config", i + 1))
                })?,
            };
        layers.push((l.clone(), d));
    }
    Ok(Plan {
        describe: format!(
            "docker archive {} (config sha256:{digest}), {}, {} layers",
            if tags.is_empty() {
                "<untagged>".to_string()
            } else {
                tags.join(",")
            },
            cfg.platform().show(),
            layers.len()
        ),
        history: cfg.layer_history(),
        layers,
    })
}

fn ref_matches(name: &str, want: &str) -> bool {
    name == want
        || name.rsplit_once(':').is_some_and(|(_, tag)| tag == want)
        || (!want.contains(':') && name == format!("{want}:latest"))
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A manifest found through the index, with its platform and ref names.
struct Candidate {
    desc: Descriptor,
    refs: Vec<String>,
}

fn collect(
    store: &Store,
    descs: Vec<Descriptor>,
    refs: &[String],
    depth: usize,
    out: &mut Vec<Candidate>,
) -> io::Result<()> {
    if depth > MAX_INDEX_DEPTH {
        return Err(bad("indexes nested too deeply"));
    }
    for d in descs {
        let mut r = refs.to_vec();
        for k in [
            "org.opencontainers.image.ref.name",
            "io.containerd.image.name",
        ] {
            if let Some(v) = d.annotations.get(k) {
                r.push(v.clone());
            }
        }
        if INDEX_TYPES.contains(&d.media_type.as_str()) {
            let bytes = store.read_small(&blob_path(&d.digest)?)?;
            check(&d.digest, &bytes, "index")?;
            let idx: Index = json(&bytes, &d.digest)?;
            collect(store, idx.manifests, &r, depth + 1, out)?;
        } else if d
            .platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
        {
            // BuildKit attestations, not images.
        } else {
            out.push(Candidate { desc: d, refs: r });
        }
    }
    Ok(())
}

fn oci_plan(store: &Store, sel: &Select, what: &str) -> io::Result<Plan> {
    let idx: Index = json(&store.read_small("index.json")?, "index.json")?;
    let mut cands = Vec::new();
    collect(store, idx.manifests, &[], 0, &mut cands)?;
    // Manifests and configs of the candidates, for the platform where the index omits it.
    let mut loaded = Vec::new();
    for c in cands {
        let mbytes = store
            .read_small(&blob_path(&c.desc.digest)?)
            .map_err(|e| bad(format!("manifest {}: {e}", c.desc.digest)))?;
        check(&c.desc.digest, &mbytes, "manifest")?;
        let m: Manifest = json(&mbytes, &c.desc.digest)?;
        let cbytes = store
            .read_small(&blob_path(&m.config.digest)?)
            .map_err(|e| bad(format!("config {}: {e}", m.config.digest)))?;
        check(&m.config.digest, &cbytes, "config")?;
        let cfg: Config = json(&cbytes, &m.config.digest)?;
        let platform = c.desc.platform.clone().unwrap_or_else(|| cfg.platform());
        loaded.push((c, m, cfg, platform));
    }
    let show = |l: &[&(Candidate, Manifest, Config, Platform)]| {
        l.iter()
            .map(|(c, _, _, p)| {
                format!(
                    "{} {} ({})",
                    if c.refs.is_empty() {
                        "<no ref>".to_string()
                    } else {
                        c.refs.join(",")
                    },
                    p.show(),
                    c.desc.digest
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let all: Vec<_> = loaded.iter().collect();
    let chosen: Vec<_> = loaded
        .iter()
        .filter(|(c, _, _, p)| {
            sel.reference
                .as_ref()
                .is_none_or(|r| c.refs.iter().any(|n| ref_matches(n, r)))
                && sel.platform.as_ref().is_none_or(|w| p.matches(w))
        })
        .collect();
    let (c, m, cfg, p) = match chosen.len() {
        1 => chosen[0],
        0 if all.is_empty() => return Err(bad("index.json lists no image")),
        0 => {
            return Err(bad(format!(
                "no image matches the --platform/--image-ref given; {what} has: {}",
                show(&all)
            )));
        }
        _ => {
            return Err(bad(format!(
                "{what} holds several images; choose one with --platform or --image-ref: {}",
                show(&chosen)
            )));
        }
    };
    if m.layers.len() > MAX_LAYERS {
        return Err(bad(format!("more than {MAX_LAYERS} layers")));
    }
    let layers = m
        .layers
        .iter()
        .map(|l| Ok((blob_path(&l.digest)?, l.digest.clone())))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Plan {
        describe: format!(
            "OCI image {}{}, {}, {} layers",
            c.desc.digest,
            c.refs
                .first()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            p.show(),
            layers.len()
        ),
        history: cfg.layer_history(),
        layers,
    })
}
