//! build.rs's reading of mimalloc's option numbers (build/mimalloc_option.rs), on headers
//! written here: the real one is found by the build through libmimalloc-sys.

#[path = "../build/mimalloc_option.rs"]
mod mimalloc_option;

use mimalloc_option::option_number;

fn header(body: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), body).unwrap();
    f
}

#[test]
fn an_option_is_numbered_by_its_place_in_the_enum() {
    let h = header(
        "#define X 1\n\
         typedef enum mi_option_e {\n\
         \x20 // stable options\n\
         \x20 mi_option_show_errors,     // print error messages\n\
         \x20 mi_option_show_stats,\n\
         \n\
         \x20 mi_option_purge_delay,     // delay in milli-seconds (=10)\n\
         \x20 mi_option_use_numa_nodes,\n\
         \x20 _mi_option_last,\n\
         \x20 mi_option_reset_delay = mi_option_purge_delay,\n\
         } mi_option_t;\n",
    );
    assert_eq!(option_number(h.path(), "mi_option_purge_delay"), Some(2));
    assert_eq!(option_number(h.path(), "mi_option_show_errors"), Some(0));
    assert_eq!(option_number(h.path(), "mi_option_use_numa_nodes"), Some(3));
}

#[test]
fn an_unknown_option_or_an_explicit_number_gives_none() {
    let h = header("typedef enum mi_option_e {\n  mi_option_a,\n  mi_option_b,\n} mi_option_t;\n");
    assert_eq!(option_number(h.path(), "mi_option_purge_delay"), None);
    let h = header(
        "typedef enum mi_option_e {\n  mi_option_a = 4,\n  mi_option_purge_delay,\n} mi_option_t;\n",
    );
    assert_eq!(option_number(h.path(), "mi_option_purge_delay"), None);
    let h = header("enum something_else { mi_option_purge_delay };\n");
    assert_eq!(option_number(h.path(), "mi_option_purge_delay"), None);
}
