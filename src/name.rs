//! Names many diagnostics share — a rule's id, a file's name — held once: a run may
//! list tens of thousands of findings of one rule in one file, and each would
//! otherwise hold a copy of both.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A name shared by what names it; read as a `str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this very name, not only the same text.
    pub fn is(&self, other: &Name) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for Name {
    fn default() -> Name {
        Name::from("")
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for Name {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&*self.0)
    }
}

impl AsRef<std::ffi::OsStr> for Name {
    fn as_ref(&self) -> &std::ffi::OsStr {
        std::ffi::OsStr::new(&*self.0)
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(Arc::from(text))
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name(Arc::from(text))
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::from(text.as_str())
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_reads_compares_and_shows_as_its_text() {
        let name = Name::from("result-entry-deadline");
        let shared = name.clone();
        assert!(Arc::ptr_eq(&name.0, &shared.0), "a clone shares the text");
        assert!(name.is(&shared));
        let copy = Name::from("result-entry-deadline");
        assert!(
            !name.is(&copy) && name == copy,
            "a copy is another name of the same text"
        );
        assert_eq!(name, "result-entry-deadline");
        assert_eq!("result-entry-deadline", name);
        assert_eq!(name, String::from("result-entry-deadline"));
        assert_ne!(name, "result-within-plan");
        assert!(name.starts_with("result-"));
        assert_eq!(
            format!("{name} {name:?}"),
            "result-entry-deadline \"result-entry-deadline\""
        );
        assert_eq!(
            serde_json::to_string(&name).ok().as_deref(),
            Some("\"result-entry-deadline\"")
        );
        let set: std::collections::HashSet<Name> = [name].into();
        assert!(set.contains("result-entry-deadline"));
        assert_eq!(Name::default(), "");
    }
}
