//! A dependency tree ([`crate::query::TreeNode`]) as JSON, written as it goes: the same
//! bytes as `serde_json::to_value(tree)` then printed (keys sorted, as a `Value`'s map
//! keeps them), without the `Value` of the whole tree, which for a 200,000-node tree is
//! most of a gigabyte.

use crate::query::TreeNode;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

/// `tree` serialised with its keys in sorted order: `children`, `repeated`, `unit`, `via`
/// (each hop as the small `Value` it was, so its own keys are sorted too).
pub struct SortedTree<'a>(pub &'a TreeNode);

struct Children<'a>(&'a [TreeNode]);

impl Serialize for SortedTree<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.0;
        let via = serde_json::to_value(&n.via).map_err(serde::ser::Error::custom)?;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("children", &Children(&n.children))?;
        m.serialize_entry("repeated", &n.repeated)?;
        m.serialize_entry("unit", &n.unit)?;
        m.serialize_entry("via", &via)?;
        m.end()
    }
}

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            seq.serialize_element(&SortedTree(c))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DepGraph;

    #[test]
    fn as_the_value_of_the_tree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/coreos-1010");
        let g: DepGraph = crate::load_dir(&root, crate::unit::Rules::default()).unwrap();
        let t = crate::query::deps(
            &g,
            "multi-user.target",
            crate::query::Direction::Forward,
            true,
        );
        assert!(t.children.len() > 3);
        let want = serde_json::to_string_pretty(&serde_json::to_value(&t).unwrap()).unwrap();
        let got = serde_json::to_string_pretty(&SortedTree(&t)).unwrap();
        assert_eq!(got, want);
    }
}
