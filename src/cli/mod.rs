//! Parts of the `unitdiff` binary (not the library): the command line, the pager, the
//! `check` command's plumbing (reading the policy and baseline files, the date, writing
//! reports), completions and manual pages, and the version text.

pub mod args;
pub mod check;
pub mod manual;
pub mod pager;
pub mod pictures;
pub mod version;
