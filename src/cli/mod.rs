//! Parts of the `unitdiff` binary (not the library): the pager and the `check` command's
//! plumbing (reading the policy and baseline files, the date, writing reports).

pub mod check;
pub mod pager;
