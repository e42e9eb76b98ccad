//! Restriction rules of `gender`: visible to everyone.

pub use super::always as mode_a;
