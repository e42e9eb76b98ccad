//! The OpenSlides autoupdate service: streams datastore values, restricted per user, and
//! every later change to them.

pub mod autoupdate;
pub mod datastore;
pub mod keysbuilder;
pub mod models;
pub mod restrict;
