//! Restriction rules of `motion_submitter`.
//!
//! TODO: port the rules of this collection; until then only superadmins see it.

pub use super::superadmin_only as mode_a;
