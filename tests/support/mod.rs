//! Shared helpers for integration tests. Include with `mod support;`.

pub mod generators;
pub mod host;
pub mod oracle;
pub mod tools;
