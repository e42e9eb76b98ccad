//! The OpenSlides autoupdate service: streams datastore values, restricted per user, and
//! every later change to them.

pub mod autoupdate;
pub mod cli;
pub mod config;
pub mod datastore;
pub mod demo;
pub mod generate;
pub mod http;
pub mod keysbuilder;
pub mod messagebus;
pub mod models;
pub mod restrict;
pub mod service;
