//! Restriction rules of `theme`: visible to everyone.

pub use super::always as mode_a;
