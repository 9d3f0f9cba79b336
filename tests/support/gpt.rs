//! GPT disk images written by the tests themselves (no sfdisk needed), and a squashfs
//! filesystem to put in them (written with backhand, no mksquashfs needed).
#![allow(dead_code)] // each test binary includes the support code but uses only part of it

use std::path::Path;

/// CRC-32 (IEEE), as GPT headers and entry arrays are checked.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A GPT disk holding `fs` at 1 MiB, with a partition for each `(first, last)` LBA range,
/// labelled `p1`, `p2`, ….
pub fn gpt_disk(out: &Path, fs: &[u8], ranges: &[(u64, u64)]) {
    let labels: Vec<String> = (1..=ranges.len()).map(|i| format!("p{i}")).collect();
    let parts: Vec<(u64, u64, &str)> = ranges
        .iter()
        .zip(&labels)
        .map(|(&(first, last), l)| (first, last, l.as_str()))
        .collect();
    gpt_disk_labelled(out, fs, &parts);
}

/// A GPT disk (512-byte sectors) holding `fs` at 1 MiB (LBA 2048), with a partition for
/// each `(first, last, label)`: LBAs as the table stores them (`last` included; a `last`
/// below `first` is written as it is).
pub fn gpt_disk_labelled(out: &Path, fs: &[u8], parts: &[(u64, u64, &str)]) {
    const SS: usize = 512;
    let n = parts.len();
    let ent_lbas = (n * 128).div_ceil(SS);
    let fs_end = 2048 + fs.len().div_ceil(SS) as u64;
    let last_used = parts.iter().map(|r| r.1).max().unwrap().max(fs_end);
    let total = last_used + 1 + ent_lbas as u64 + 1;
    // The Linux filesystem data type, as stored (mixed-endian).
    let linux: [u8; 16] = [
        0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d,
        0xe4,
    ];
    let mut ents = vec![0u8; ent_lbas * SS];
    for (i, &(first, last, label)) in parts.iter().enumerate() {
        let e = &mut ents[i * 128..(i + 1) * 128];
        e[..16].copy_from_slice(&linux);
        e[16] = 1;
        e[17..21].copy_from_slice(&(i as u32).to_le_bytes());
        e[32..40].copy_from_slice(&first.to_le_bytes());
        e[40..48].copy_from_slice(&last.to_le_bytes());
        for (k, u) in label.encode_utf16().take(36).enumerate() {
            e[56 + 2 * k..58 + 2 * k].copy_from_slice(&u.to_le_bytes());
        }
    }
    let ecrc = crc32(&ents[..n * 128]);
    let header = |my: u64, alt: u64, entries_at: u64| {
        let mut h = vec![0u8; SS];
        h[..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x10000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&my.to_le_bytes());
        h[32..40].copy_from_slice(&alt.to_le_bytes());
        h[40..48].copy_from_slice(&(2 + ent_lbas as u64).to_le_bytes());
        h[48..56].copy_from_slice(&(total - ent_lbas as u64 - 2).to_le_bytes());
        h[56] = 7; // disk GUID
        h[72..80].copy_from_slice(&entries_at.to_le_bytes());
        h[80..84].copy_from_slice(&(n as u32).to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        h[88..92].copy_from_slice(&ecrc.to_le_bytes());
        let c = crc32(&h[..92]);
        h[16..20].copy_from_slice(&c.to_le_bytes());
        h
    };
    let mut img = vec![0u8; total as usize * SS];
    // Protective MBR.
    img[446 + 4] = 0xee;
    img[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
    img[446 + 12..446 + 16].copy_from_slice(&((total - 1) as u32).to_le_bytes());
    img[510] = 0x55;
    img[511] = 0xaa;
    img[SS..2 * SS].copy_from_slice(&header(1, total - 1, 2));
    img[2 * SS..2 * SS + ents.len()].copy_from_slice(&ents);
    img[2048 * SS..2048 * SS + fs.len()].copy_from_slice(fs);
    let backup = (total - 1 - ent_lbas as u64) as usize * SS;
    img[backup..backup + ents.len()].copy_from_slice(&ents);
    let backup_header = header(total - 1, 1, total - 1 - ent_lbas as u64);
    img[(total as usize - 1) * SS..].copy_from_slice(&backup_header);
    std::fs::write(out, img).unwrap();
}

/// A squashfs filesystem (written by backhand, as mksquashfs would) holding `files`
/// (`(path, contents)`, parents made as needed).
pub fn squashfs(files: &[(&str, &[u8])]) -> Vec<u8> {
    use backhand::{FilesystemWriter, NodeHeader};
    let mut w = FilesystemWriter::default();
    let dir = NodeHeader::new(0o755, 0, 0, 0);
    for (path, data) in files {
        if let Some((parent, _)) = path.rsplit_once('/') {
            w.push_dir_all(parent, dir).unwrap();
        }
        w.push_file(*data, path, NodeHeader::new(0o644, 0, 0, 0))
            .unwrap();
    }
    let mut out = std::io::Cursor::new(Vec::new());
    w.write(&mut out).unwrap();
    out.into_inner()
}
