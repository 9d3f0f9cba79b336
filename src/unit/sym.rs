//! [`Sym`]: a shared, immutable string for the words a loaded image repeats many times
//! (unit names at both ends of every edge, setting sections and keys), and [`Interner`],
//! which gives one [`Sym`] per distinct word while an image loads.
//!
//! A `String` per edge end cost an allocation and ~60 bytes each: a 100k-unit image has
//! ~1.5 M edges. A `Sym` is one pointer to one shared copy ([`ThinStr`]). It compares, orders
//! and hashes as its text (so sorted output is unchanged), and equal pointers are equal
//! without reading the text.

use crate::thin_str::ThinStr;
use serde::{Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;

/// A shared immutable string that compares, orders and hashes as its text ([`ThinStr`]).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym(ThinStr);

impl Sym {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Sym {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Sym {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Sym> for str {
    fn eq(&self, other: &Sym) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Sym> for &str {
    fn eq(&self, other: &Sym) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Sym> for String {
    fn eq(&self, other: &Sym) -> bool {
        **self == *other.0
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Sym {
        Sym(ThinStr::new(s))
    }
}

impl From<String> for Sym {
    fn from(s: String) -> Sym {
        Sym(ThinStr::new(&s))
    }
}

impl From<&String> for Sym {
    fn from(s: &String) -> Sym {
        Sym(ThinStr::new(s))
    }
}

impl From<Sym> for String {
    fn from(s: Sym) -> String {
        s.0.to_string()
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl Serialize for Sym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// One [`Sym`] per distinct text (foldhash, seeded per process: an image cannot choose
/// colliding names in advance).
#[derive(Default)]
pub struct Interner(HashSet<Sym, foldhash::fast::RandomState>);

impl Interner {
    /// The shared copy of `s` (made on first use).
    pub fn get(&mut self, s: &str) -> Sym {
        if let Some(x) = self.0.get(s) {
            return x.clone();
        }
        let x = Sym::from(s);
        self.0.insert(x.clone());
        x
    }

    /// [`Interner::get`] for an owned string (no copy when it is new).
    pub fn take(&mut self, s: String) -> Sym {
        if let Some(x) = self.0.get(s.as_str()) {
            return x.clone();
        }
        let x = Sym::from(s);
        self.0.insert(x.clone());
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_compares_as_its_text() {
        let mut i = Interner::default();
        let a = i.get("a.service");
        let b = i.take("b.service".to_string());
        assert!(a < b);
        assert_eq!(a, Sym::from("a.service"));
        assert_ne!(a, b);
        assert!(a == "a.service");
        assert!(ThinStr::ptr_eq(&a.0, &i.get("a.service").0));
        let set: HashSet<Sym> = [a.clone()].into();
        assert!(set.contains("a.service"));
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"b.service\"");
    }
}
