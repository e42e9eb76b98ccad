//! Restriction rules of `meeting`.
//!
//! TODO: port the rules of this collection; until then only superadmins see it.

pub use super::superadmin_only as mode_a;
pub use super::superadmin_only as mode_b;
pub use super::superadmin_only as mode_c;
pub use super::superadmin_only as mode_e;
pub use super::superadmin_only as mode_f;
