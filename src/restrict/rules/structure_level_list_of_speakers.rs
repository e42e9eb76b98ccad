//! Restriction rules of `structure_level_list_of_speakers`.
//!
//! TODO: port the rules of this collection; until then only superadmins see it.

pub use super::superadmin_only as mode_a;
