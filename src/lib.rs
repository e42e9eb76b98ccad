//! The OpenSlides autoupdate service: streams datastore values, restricted per user, and
//! every later change to them.

// Input must never panic the service: unwrap and expect are for tests and start-up only,
// where each use is allowed by name.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod autoupdate;
pub mod cli;
pub mod config;
pub mod datastore;
pub mod demo;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod history;
pub mod http;
pub mod keysbuilder;
pub mod messagebus;
pub mod metric;
pub mod models;
pub mod projector;
pub mod repeats;
pub mod restrict;
pub mod service;
pub mod vote;
