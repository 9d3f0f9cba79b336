//! The loader's list of edges as written, grown in fixed-size chunks: one buffer grown by
//! doubling holds up to twice the edges at the last growth (the old buffer and its copy),
//! and the list is the largest thing a load holds (~1.5 M edges of 104 bytes at 100k
//! units). [`EdgeList::into_vec`] makes it one exact-size `Vec`, freeing each chunk as it
//! is moved.

use crate::unit::Edge;

/// Edges per chunk (~1.7 MB).
const CHUNK: usize = 1 << 14;

#[derive(Default)]
pub(super) struct EdgeList {
    chunks: Vec<Vec<Edge>>,
    len: usize,
}

impl EdgeList {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn push(&mut self, e: Edge) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < c.capacity() => c.push(e),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(e);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    pub(super) fn extend(&mut self, edges: impl IntoIterator<Item = Edge>) {
        for e in edges {
            self.push(e);
        }
    }

    /// In the order pushed.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &Edge> + Clone {
        self.chunks.iter().flatten()
    }

    pub(super) fn retain_mut(&mut self, mut keep: impl FnMut(&mut Edge) -> bool) {
        for c in &mut self.chunks {
            c.retain_mut(&mut keep);
        }
        self.len = self.chunks.iter().map(Vec::len).sum();
    }

    /// The edges in one `Vec` of exactly their number, in the order pushed.
    pub(super) fn into_vec(self) -> Vec<Edge> {
        let mut all = Vec::with_capacity(self.len);
        for c in self.chunks {
            all.extend(c);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::{DepKind, How, Origin, Provenance};

    fn edge(i: usize) -> Edge {
        Edge {
            from: "a.service".into(),
            kind: DepKind::Wants,
            to: format!("u{i}.service").as_str().into(),
            provenance: Provenance {
                origin: Origin::File,
                how: How::Fragment,
                path: None,
                line: Some(i as u32),
                layer: None,
                rule: None,
                generator: None,
            },
        }
    }

    #[test]
    fn chunks_keep_the_order_pushed() {
        let mut l = EdgeList::default();
        let n = 2 * CHUNK + 7;
        l.extend((0..n).map(edge));
        assert_eq!(l.len(), n);
        assert_eq!(
            l.iter().next_back().unwrap().provenance.line,
            Some(n as u32 - 1)
        );
        l.retain_mut(|e| e.provenance.line.unwrap() % 3 != 0);
        let want: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 0).collect();
        assert_eq!(l.len(), want.len());
        let v = l.into_vec();
        assert_eq!(v.capacity(), want.len());
        let got: Vec<u32> = v.iter().map(|e| e.provenance.line.unwrap()).collect();
        assert_eq!(got, want);
    }
}
