//! Restriction rules of `organization_tag`: visible to logged-in users.

pub use super::logged_in as mode_a;
