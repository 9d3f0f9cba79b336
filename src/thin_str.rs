//! [`ThinStr`]: a shared, immutable string behind one pointer. The words a loaded image
//! repeats millions of times (unit names at both ends of every edge, setting sections and
//! keys, the path behind every edge and setting) are each one shared copy; `Arc<str>` points
//! to it with a pointer and a length (16 bytes), a `ThinStr` with the pointer alone
//! (8 bytes: the length is stored with the text, `triomphe::ThinArc`).
//!
//! It compares, orders and hashes as its text.

use std::fmt;
use std::ops::Deref;
use triomphe::ThinArc;

/// A shared immutable string, one pointer wide, that behaves as its text.
#[derive(Clone)]
pub struct ThinStr(ThinArc<(), u8>);

impl ThinStr {
    pub fn new(s: &str) -> Self {
        ThinStr(ThinArc::from_header_and_slice((), s.as_bytes()))
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: a `ThinStr` is made only from a `&str` (`new`) and never changed, so its
        // bytes are UTF-8.
        unsafe { std::str::from_utf8_unchecked(&self.0.slice) }
    }

    /// Whether both are the same shared copy (then they are equal, without comparing).
    pub fn ptr_eq(a: &ThinStr, b: &ThinStr) -> bool {
        a.0.ptr() == b.0.ptr()
    }
}

impl Default for ThinStr {
    fn default() -> Self {
        ThinStr::new("")
    }
}

impl Deref for ThinStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for ThinStr {
    fn from(s: &str) -> Self {
        ThinStr::new(s)
    }
}

impl From<String> for ThinStr {
    fn from(s: String) -> Self {
        ThinStr::new(&s)
    }
}

impl PartialEq for ThinStr {
    fn eq(&self, other: &ThinStr) -> bool {
        ThinStr::ptr_eq(self, other) || self.as_str() == other.as_str()
    }
}

impl Eq for ThinStr {}

impl PartialOrd for ThinStr {
    fn partial_cmp(&self, other: &ThinStr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ThinStr {
    fn cmp(&self, other: &ThinStr) -> std::cmp::Ordering {
        if ThinStr::ptr_eq(self, other) {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for ThinStr {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // As `str` hashes, so that `Borrow<str>` lookups of a wrapper find it.
        self.as_str().hash(h)
    }
}

impl fmt::Debug for ThinStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ThinStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for ThinStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pointer_wide_and_behaves_as_its_text() {
        assert_eq!(size_of::<ThinStr>(), size_of::<usize>());
        assert_eq!(size_of::<Option<ThinStr>>(), size_of::<usize>());
        let a = ThinStr::new("a.service");
        let b = ThinStr::from("b.service".to_string());
        assert_eq!(&*a, "a.service");
        assert!(a < b);
        assert_eq!(b.cmp(&a), std::cmp::Ordering::Greater);
        assert_eq!(a, ThinStr::new("a.service"));
        assert!(!ThinStr::ptr_eq(&a, &ThinStr::new("a.service")));
        assert!(ThinStr::ptr_eq(&a, &a.clone()));
        assert_eq!(ThinStr::default().as_str(), "");
        assert_eq!(format!("{a} {b:?}"), "a.service \"b.service\"");
        assert_eq!(
            serde_json::to_string(&ThinStr::new("ü\"")).unwrap(),
            r#""ü\"""#
        );
    }
}
