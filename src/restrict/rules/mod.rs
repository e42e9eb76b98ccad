//! The restriction rules: one function per collection and restriction mode of
//! models.yml, `<collection>::mode_<mode>`, which returns the ids the viewer may see. The
//! table that maps modes to functions is generated, so a mode without a rule does not
//! build.

mod helpers;
#[cfg(test)]
pub(crate) mod testing;

pub use helpers::{
    always, by_meeting, is_admin_in_any_meeting_or_organization_manager, logged_in,
    meeting_permission, never, superadmin_only,
};

use super::context::Context;
use super::RestrictError;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;

/// A rule: the ids among the given ones that the viewer may see.
pub type Rule =
    for<'c> fn(&'c mut Context, Vec<Id>) -> BoxFuture<'c, Result<Vec<Id>, RestrictError>>;

include!(concat!(env!("OUT_DIR"), "/restriction_rules.rs"));

mod action_worker;
mod agenda_item;
mod assignment;
mod assignment_candidate;
mod chat_group;
mod chat_message;
mod committee;
mod gender;
mod group;
mod import_preview;
mod list_of_speakers;
mod mediafile;
mod meeting;
mod meeting_mediafile;
mod meeting_user;
mod motion;
mod motion_block;
mod motion_category;
mod motion_change_recommendation;
mod motion_comment;
mod motion_comment_section;
mod motion_editor;
mod motion_state;
mod motion_submitter;
mod motion_workflow;
mod motion_working_group_speaker;
mod option;
mod organization;
mod organization_tag;
mod personal_note;
mod point_of_order_category;
mod poll;
mod poll_candidate;
mod poll_candidate_list;
mod projection;
mod projector;
mod projector_countdown;
mod projector_message;
mod speaker;
mod structure_level;
mod structure_level_list_of_speakers;
mod tag;
mod theme;
mod topic;
mod user;
mod vote;
