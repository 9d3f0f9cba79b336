//! Heap in use and peak per phase of `unitdiff diff` (a counting allocator over the system
//! one): `cargo run --release --example mem_phases -- OLD NEW`.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;
static CUR: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let n = CUR.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(n, Relaxed);
        COUNT.fetch_add(1, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        CUR.fetch_sub(l.size(), Relaxed);
        COUNT.fetch_sub(1, Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let n = CUR.fetch_add(new, Relaxed) + new;
        CUR.fetch_sub(l.size(), Relaxed);
        PEAK.fetch_max(n, Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn report(what: &str) {
    eprintln!(
        "{what:<28} in use {:>8.1} MB in {:>9} blocks, peak so far {:>8.1} MB",
        CUR.load(Relaxed) as f64 / 1e6,
        COUNT.load(Relaxed),
        PEAK.load(Relaxed) as f64 / 1e6
    );
    PEAK.store(CUR.load(Relaxed), Relaxed);
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (old, new) = (std::path::Path::new(&a[1]), std::path::Path::new(&a[2]));
    // As `unitdiff diff` loads them: each unit file's digest, not its bytes.
    let opts = unitdiff::InputOptions {
        contents_as_digests: true,
        ..Default::default()
    };
    report("start");
    let og = unitdiff::open_input_with(old, None, &[], &opts).unwrap();
    report("OLD loaded");
    eprintln!(
        "  units {} templates {} edge keys {} provenances {} settings {}",
        og.set.units.len(),
        og.set.templates.len(),
        og.edges.len(),
        og.edges.provenance_count(),
        og.set
            .units
            .values()
            .map(|u| u.settings.len() + u.install.len())
            .sum::<usize>()
    );
    let ng = unitdiff::open_input_with(new, None, &[], &opts).unwrap();
    report("NEW loaded");
    let d = unitdiff::diff::diff(&og, &ng, None);
    report("diff");
    let ans = unitdiff::query::diff_answers(&og, &ng, &d);
    report("answers");
    let mut text = Vec::new();
    unitdiff::report::text::diff(&d, "", &mut text).unwrap();
    let t2 = unitdiff::report::answers::diff_answers(&ans);
    report("text");
    eprintln!("  text {} + {} bytes", text.len(), t2.len());
}
