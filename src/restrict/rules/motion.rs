//! Restriction rules of `motion`: visibility by permission, state restrictions,
//! forwarding between meetings and lead motions.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::perms::Perms;
use super::super::RestrictError;
use super::helpers::{by_meeting, meeting_permission};
use crate::models::collections::{Meeting, MeetingUser, Motion, MotionState, MotionSubmitter};
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::{HashMap, HashSet};

/// The entry of `motion_state/restrictions` that admits the motion's submitters.
const IS_SUBMITTER: &str = "is_submitter";

/// Users who may see the motion (mode C), or any motion in its `all_origin_ids` or
/// `all_derived_motion_ids`, see its identity and forwarding fields.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let mut allowed = ctx
            .visible(Collection::Motion, RestrictionMode::C, &ids)
            .await?;
        let seen: HashSet<Id> = allowed.iter().copied().collect();
        let hidden: Vec<Id> = ids.into_iter().filter(|id| !seen.contains(id)).collect();
        if hidden.is_empty() {
            return Ok(allowed);
        }

        let origins = ctx.get(Motion::ALL_ORIGIN_IDS, &hidden).await?;
        let derived = ctx.get(Motion::ALL_DERIVED_MOTION_IDS, &hidden).await?;
        let related: Vec<Vec<Id>> = origins
            .into_iter()
            .zip(derived)
            .map(|(origins, derived)| {
                let mut ids = origins.unwrap_or_default();
                ids.extend(derived.unwrap_or_default());
                ids
            })
            .collect();

        // Referenced motions that were deleted have no meeting, so mode C hides them.
        let all_related: Vec<Id> = related.iter().flatten().copied().collect();
        let visible_related: HashSet<Id> = ctx
            .visible(Collection::Motion, RestrictionMode::C, &all_related)
            .await?
            .into_iter()
            .collect();
        for (id, related) in hidden.into_iter().zip(related) {
            if related.iter().any(|other| visible_related.contains(other)) {
                allowed.push(id);
            }
        }
        Ok(allowed)
    })
}

/// Users with `motion.can_manage_metadata` in the motion's meeting see its editors and
/// working group speakers.
pub fn mode_b(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        meeting_permission(
            ctx,
            Motion::MEETING_ID,
            &ids,
            &[Permission::MotionCanManageMetadata],
        )
        .await
    })
}

/// Users who may see the motion itself see its content. That takes `motion.can_see` in
/// its meeting (or `motion.can_see_origin` in the meeting of a motion derived from it),
/// one of the restrictions of its state, and the same for each of its lead motions.
pub fn mode_c(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move { visible_with_lead_motions(ctx, &ids).await })
}

/// Nobody sees these fields.
pub use super::never as mode_d;

/// Users who may see the motion (mode C) see its recommendation unless its state is
/// internal. In internal states only users with `motion.can_manage_metadata` see it.
pub fn mode_e(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let visible = ctx
            .visible(Collection::Motion, RestrictionMode::C, &ids)
            .await?;

        let mut allowed = Vec::new();
        let mut need_public_state = Vec::new();
        for (meeting_id, ids) in by_meeting(ctx, Motion::MEETING_ID, &visible).await? {
            let perms = ctx.perms(meeting_id).await?;
            if perms.is_some_and(|perms| perms.has(Permission::MotionCanManageMetadata)) {
                allowed.extend(ids);
            } else {
                need_public_state.extend(ids);
            }
        }
        allowed.extend(in_public_state(ctx, &need_public_state).await?);
        Ok(allowed)
    })
}

/// Filters `motion_ids` to the motions whose state is not internal. Motions without a
/// state are left out.
pub(super) async fn in_public_state(
    ctx: &mut Context,
    motion_ids: &[Id],
) -> Result<Vec<Id>, RestrictError> {
    if motion_ids.is_empty() {
        return Ok(Vec::new());
    }
    let states = ctx.get(Motion::STATE_ID, motion_ids).await?;
    let state_ids: Vec<Id> = unique(states.iter().flatten().copied());
    let internal = ctx.get(MotionState::IS_INTERNAL, &state_ids).await?;
    let internal_states: HashSet<Id> = state_ids
        .into_iter()
        .zip(internal)
        .filter(|(_, internal)| *internal == Some(true))
        .map(|(state_id, _)| state_id)
        .collect();

    Ok(motion_ids
        .iter()
        .zip(states)
        .filter_map(|(id, state)| {
            let state = state?;
            (!internal_states.contains(&state)).then_some(*id)
        })
        .collect())
}

/// Filters `motion_ids` to the motions that the viewer submitted: one of the motion's
/// `submitter_ids` belongs to a meeting user of the viewer. Public access submits
/// nothing, and submitters with a missing meeting user or user count as someone else.
pub(super) async fn submitted_by_viewer(
    ctx: &mut Context,
    motion_ids: &[Id],
) -> Result<Vec<Id>, RestrictError> {
    let user_id = ctx.user_id();
    if user_id == 0 || motion_ids.is_empty() {
        return Ok(Vec::new());
    }

    let submitter_lists = ctx.get(Motion::SUBMITTER_IDS, motion_ids).await?;
    let submitter_ids: Vec<Id> = unique(submitter_lists.iter().flatten().flatten().copied());
    let meeting_users = ctx
        .get(MotionSubmitter::MEETING_USER_ID, &submitter_ids)
        .await?;
    let meeting_user_ids: Vec<Id> = unique(meeting_users.iter().flatten().copied());
    let users = ctx.get(MeetingUser::USER_ID, &meeting_user_ids).await?;
    let own_meeting_users: HashSet<Id> = meeting_user_ids
        .into_iter()
        .zip(users)
        .filter(|(_, user)| *user == Some(user_id))
        .map(|(meeting_user_id, _)| meeting_user_id)
        .collect();
    let own_submitters: HashSet<Id> = submitter_ids
        .into_iter()
        .zip(meeting_users)
        .filter(|(_, meeting_user)| meeting_user.is_some_and(|id| own_meeting_users.contains(&id)))
        .map(|(submitter_id, _)| submitter_id)
        .collect();

    Ok(motion_ids
        .iter()
        .zip(submitter_lists)
        .filter(|(_, submitters)| {
            submitters
                .iter()
                .flatten()
                .any(|submitter| own_submitters.contains(submitter))
        })
        .map(|(id, _)| *id)
        .collect())
}

/// Filters `ids` to the motions that pass `visible_ignoring_lead_motions` together with
/// every motion in their chain of lead motions (mode C).
async fn visible_with_lead_motions(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<Vec<Id>, RestrictError> {
    let leads = lead_motions(ctx, ids).await?;
    let chain_ids: Vec<Id> = leads.keys().copied().collect();
    let allowed: HashSet<Id> = visible_ignoring_lead_motions(ctx, &chain_ids)
        .await?
        .into_iter()
        .collect();

    Ok(ids
        .iter()
        .copied()
        .filter(|id| allowed.contains(id) && lead_chain_allowed(*id, &allowed, &leads))
        .collect())
}

/// Maps each of `ids` and each motion in their chains of lead motions to its
/// `lead_motion_id`, reading one level of the chains per datastore call.
async fn lead_motions(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<HashMap<Id, Option<Id>>, RestrictError> {
    let mut leads: HashMap<Id, Option<Id>> = HashMap::new();
    let mut level = unique(ids.iter().copied());
    while !level.is_empty() {
        let values = ctx.get(Motion::LEAD_MOTION_ID, &level).await?;
        for (id, lead) in level.iter().zip(&values) {
            leads.insert(*id, *lead);
        }
        level = unique(
            values
                .into_iter()
                .flatten()
                .filter(|lead| !leads.contains_key(lead)),
        );
    }
    Ok(leads)
}

/// Returns whether every motion in the chain of lead motions of `id` is in `allowed`.
/// The walk stops at a motion without a lead motion or at a motion it has already
/// passed, so chains that form a cycle end.
fn lead_chain_allowed(id: Id, allowed: &HashSet<Id>, leads: &HashMap<Id, Option<Id>>) -> bool {
    let mut passed = HashSet::new();
    let mut current = leads.get(&id).copied().flatten();
    while let Some(lead) = current {
        if lead == id || !passed.insert(lead) {
            return true;
        }
        if !allowed.contains(&lead) {
            return false;
        }
        current = leads.get(&lead).copied().flatten();
    }
    true
}

/// Filters `ids` to the motions the viewer may see by permission in their meeting or by
/// forwarding, and by the restrictions of their state, without looking at lead motions.
async fn visible_ignoring_lead_motions(
    ctx: &mut Context,
    ids: &[Id],
) -> Result<Vec<Id>, RestrictError> {
    let mut allowed = Vec::new();
    for (meeting_id, ids) in by_meeting(ctx, Motion::MEETING_ID, ids).await? {
        let perms = ctx.perms(meeting_id).await?;
        let seeable = seeable_in_meeting(ctx, meeting_id, perms.as_deref(), ids).await?;
        allowed.extend(pass_state_restrictions(ctx, perms.as_deref(), seeable).await?);
    }
    Ok(allowed)
}

/// Filters the motions of one meeting to those the viewer may see before state
/// restrictions: all of them with `motion.can_see` there. Otherwise, in a meeting that is
/// not locked from inside, those with a derived motion in a meeting where the viewer has
/// `motion.can_see_origin`.
async fn seeable_in_meeting(
    ctx: &mut Context,
    meeting_id: Id,
    perms: Option<&Perms>,
    ids: Vec<Id>,
) -> Result<Vec<Id>, RestrictError> {
    if perms.is_some_and(|perms| perms.has(Permission::MotionCanSee)) {
        return Ok(ids);
    }
    let locked = ctx
        .get_one(Meeting::LOCKED_FROM_INSIDE, meeting_id)
        .await?
        .unwrap_or(false);
    if locked {
        return Ok(Vec::new());
    }

    let derived_lists = ctx.get(Motion::ALL_DERIVED_MOTION_IDS, &ids).await?;
    let derived_ids: Vec<Id> = unique(derived_lists.iter().flatten().flatten().copied());
    if derived_ids.is_empty() {
        return Ok(Vec::new());
    }
    let derived_meetings = ctx.get(Motion::MEETING_ID, &derived_ids).await?;

    let mut origin_viewer_in: HashMap<Id, bool> = HashMap::new();
    for meeting in unique(derived_meetings.iter().flatten().copied()) {
        let perms = ctx.perms(meeting).await?;
        let can_see_origin = perms.is_some_and(|perms| perms.has(Permission::MotionCanSeeOrigin));
        origin_viewer_in.insert(meeting, can_see_origin);
    }
    let readable_derived: HashSet<Id> = derived_ids
        .into_iter()
        .zip(derived_meetings)
        .filter(|(_, meeting)| meeting.is_some_and(|meeting| origin_viewer_in[&meeting]))
        .map(|(derived_id, _)| derived_id)
        .collect();

    Ok(ids
        .into_iter()
        .zip(derived_lists)
        .filter(|(_, derived)| {
            derived
                .iter()
                .flatten()
                .any(|derived_id| readable_derived.contains(derived_id))
        })
        .map(|(id, _)| id)
        .collect())
}

/// Filters motions of one meeting by `motion_state/restrictions` of their state. A state
/// without restrictions admits everyone. Otherwise one restriction that the viewer meets
/// is enough: holding the named permission in the motion's meeting, or being a
/// submitter of the motion for `is_submitter`. Motions without a state are left out.
async fn pass_state_restrictions(
    ctx: &mut Context,
    perms: Option<&Perms>,
    ids: Vec<Id>,
) -> Result<Vec<Id>, RestrictError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let states = ctx.get(Motion::STATE_ID, &ids).await?;
    let mut by_state: HashMap<Id, Vec<Id>> = HashMap::new();
    for (id, state) in ids.into_iter().zip(states) {
        if let Some(state) = state {
            by_state.entry(state).or_default().push(id);
        }
    }
    let state_ids: Vec<Id> = by_state.keys().copied().collect();
    let restriction_lists = ctx.get(MotionState::RESTRICTIONS, &state_ids).await?;

    let mut allowed = Vec::new();
    let mut need_submitter = Vec::new();
    for (state_id, restrictions) in state_ids.iter().zip(restriction_lists) {
        let restrictions = restrictions.unwrap_or_default();
        let motions = by_state.remove(state_id).unwrap_or_default();
        let by_permission = restrictions
            .iter()
            .any(|restriction| restriction != IS_SUBMITTER && grants(perms, restriction));
        if restrictions.is_empty() || by_permission {
            allowed.extend(motions);
        } else if restrictions
            .iter()
            .any(|restriction| restriction == IS_SUBMITTER)
        {
            need_submitter.extend(motions);
        }
    }
    allowed.extend(submitted_by_viewer(ctx, &need_submitter).await?);
    Ok(allowed)
}

/// Returns whether the permissions hold the permission named `name`. Meeting admins hold every
/// name, even one that is no permission.
fn grants(perms: Option<&Perms>, name: &str) -> bool {
    let Some(perms) = perms else {
        return false;
    };
    perms.is_admin() || Permission::from_name(name).is_some_and(|permission| perms.has(permission))
}

/// Sorts the ids and removes duplicates.
fn unique(ids: impl Iterator<Item = Id>) -> Vec<Id> {
    let mut ids: Vec<Id> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A meeting with one user per kind of viewer, for the tests of the motion
/// collections. Tests add their objects with `with`.
#[cfg(test)]
pub(super) mod fixture {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    pub const MEETING: Id = 1;
    pub const OTHER_MEETING: Id = 2;

    /// Public access.
    pub const PUBLIC: Id = 0;
    /// A user without a meeting user.
    pub const OUTSIDER: Id = 2;
    /// A member of the meeting in a group without permissions.
    pub const MEMBER: Id = 3;
    /// A member with `motion.can_see`.
    pub const CAN_SEE: Id = 4;
    /// A member with `motion.can_manage`.
    pub const CAN_MANAGE: Id = 5;
    /// A member with `motion.can_manage_metadata`.
    pub const CAN_MANAGE_METADATA: Id = 6;
    /// A member of the meeting's admin group.
    pub const ADMIN: Id = 7;
    /// A superadmin who is no member of the meeting.
    pub const SUPERADMIN: Id = 8;
    /// A user with `can_manage_users` who is no member of the meeting.
    pub const USER_MANAGER: Id = 9;
    /// A manager of the meeting's committee who is no member of the meeting.
    pub const COMMITTEE_MANAGER: Id = 10;
    /// A member with `motion.can_see` who is locked out of the meeting.
    pub const LOCKED_OUT: Id = 11;
    /// A member with `motion.can_see` who submits the motions of the tests.
    pub const SUBMITTER: Id = 12;
    /// A member with `motion.can_see` who is also in `REVIEWER_GROUP`.
    pub const REVIEWER: Id = 13;
    /// A member in `REVIEWER_GROUP` only, without `motion.can_see`.
    pub const REVIEWER_WITHOUT_CAN_SEE: Id = 14;
    /// A member of `OTHER_MEETING` only, with `motion.can_see_origin` there.
    pub const ORIGIN_VIEWER: Id = 15;
    /// A member of `OTHER_MEETING` only, with `motion.can_see` there.
    pub const OTHER_MEETING_MEMBER: Id = 16;

    pub const ADMIN_GROUP: Id = 10;
    pub const NO_PERMISSION_GROUP: Id = 11;
    pub const CAN_SEE_GROUP: Id = 12;
    pub const CAN_MANAGE_GROUP: Id = 13;
    pub const METADATA_GROUP: Id = 14;
    /// The public access group, with `motion.can_see`, used after `enable_anonymous`.
    pub const ANONYMOUS_GROUP: Id = 15;
    /// A group without permissions for comment section tests.
    pub const REVIEWER_GROUP: Id = 16;

    /// The meeting user of `user` in `MEETING`.
    pub fn meeting_user(user: Id) -> Id {
        100 + user
    }

    /// The meeting user of `user` in `OTHER_MEETING`.
    pub fn other_meeting_user(user: Id) -> Id {
        200 + user
    }

    fn add_member(data: &mut Value, user: Id, meeting: Id, meeting_user: Id, groups: &[Id]) {
        merge(
            data,
            json!({
                format!("user/{user}"): {"meeting_user_ids": [meeting_user]},
                format!("meeting_user/{meeting_user}"): {
                    "user_id": user, "meeting_id": meeting, "group_ids": groups
                },
            }),
        );
    }

    /// The meeting, its groups and users, and a second meeting for forwarded motions.
    pub fn meeting() -> Value {
        let mut data = json!({
            "organization/1": {"enable_anonymous": false},
            "committee/60": {"meeting_ids": [MEETING, OTHER_MEETING]},
            "meeting/1": {
                "committee_id": 60, "admin_group_id": ADMIN_GROUP,
                "enable_anonymous": false
            },
            "group/10": {"meeting_id": MEETING, "admin_group_for_meeting_id": MEETING, "permissions": []},
            "group/11": {"meeting_id": MEETING, "permissions": []},
            "group/12": {"meeting_id": MEETING, "permissions": ["motion.can_see"]},
            "group/13": {"meeting_id": MEETING, "permissions": ["motion.can_manage"]},
            "group/14": {"meeting_id": MEETING, "permissions": ["motion.can_manage_metadata"]},
            "group/15": {"meeting_id": MEETING, "permissions": ["motion.can_see"]},
            "group/16": {"meeting_id": MEETING, "permissions": []},
            "meeting/2": {"committee_id": 60, "admin_group_id": 20},
            "group/20": {"meeting_id": OTHER_MEETING, "admin_group_for_meeting_id": OTHER_MEETING},
            "group/21": {"meeting_id": OTHER_MEETING, "permissions": ["motion.can_see_origin"]},
            "group/22": {"meeting_id": OTHER_MEETING, "permissions": ["motion.can_see"]},
            "user/2": {"username": "outsider"},
            "user/8": {"organization_management_level": "superadmin"},
            "user/9": {"organization_management_level": "can_manage_users"},
            "user/10": {"committee_management_ids": [60]},
        });
        let members: [(Id, &[Id]); 10] = [
            (MEMBER, &[NO_PERMISSION_GROUP]),
            (CAN_SEE, &[CAN_SEE_GROUP]),
            (CAN_MANAGE, &[CAN_MANAGE_GROUP]),
            (CAN_MANAGE_METADATA, &[METADATA_GROUP]),
            (ADMIN, &[ADMIN_GROUP]),
            (LOCKED_OUT, &[CAN_SEE_GROUP]),
            (SUBMITTER, &[CAN_SEE_GROUP]),
            (REVIEWER, &[CAN_SEE_GROUP, REVIEWER_GROUP]),
            (REVIEWER_WITHOUT_CAN_SEE, &[REVIEWER_GROUP]),
            (ORIGIN_VIEWER, &[]),
        ];
        for (user, groups) in members {
            if user != ORIGIN_VIEWER {
                add_member(&mut data, user, MEETING, meeting_user(user), groups);
            }
        }
        merge(
            &mut data,
            json!({format!("meeting_user/{}", meeting_user(LOCKED_OUT)): {"locked_out": true}}),
        );
        add_member(
            &mut data,
            ORIGIN_VIEWER,
            OTHER_MEETING,
            other_meeting_user(ORIGIN_VIEWER),
            &[21],
        );
        add_member(
            &mut data,
            OTHER_MEETING_MEMBER,
            OTHER_MEETING,
            other_meeting_user(OTHER_MEETING_MEMBER),
            &[22],
        );
        data
    }

    /// Sets the fields of `extra` in `data`, object by object.
    pub fn merge(data: &mut Value, extra: Value) {
        let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) else {
            panic!("test data and additions are objects of fqids");
        };
        for (fqid, fields) in extra {
            let Value::Object(fields) = fields else {
                panic!("the fields of {fqid} are an object");
            };
            let object = data
                .entry(fqid)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("objects are JSON objects");
            object.extend(fields);
        }
    }

    /// The meeting with the objects of `extra`.
    pub fn with(extra: Value) -> Value {
        let mut data = meeting();
        merge(&mut data, extra);
        data
    }

    /// Turns on public access in the organization and the meeting.
    pub fn enable_anonymous(data: &mut Value) {
        merge(
            data,
            json!({
                "organization/1": {"enable_anonymous": true},
                "meeting/1": {"enable_anonymous": true, "anonymous_group_id": ANONYMOUS_GROUP},
            }),
        );
    }

    /// Locks the meeting from inside, which takes organization managers' rights there.
    pub fn lock_meeting(data: &mut Value) {
        merge(data, json!({"meeting/1": {"locked_from_inside": true}}));
    }

    /// Asserts for each `(user, expected)` of `cases` that the user sees exactly
    /// `expected` of `ids` in `collection` and `mode`.
    pub async fn assert_visible(
        data: &Value,
        collection: &str,
        mode: &str,
        ids: &[Id],
        cases: &[(Id, &[Id])],
    ) {
        for (user, expected) in cases {
            let got = visible_ids(data, *user, collection, mode, ids).await;
            assert_eq!(
                got, *expected,
                "user {user} sees these of {collection}/{mode} {ids:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use crate::models::Id;
    use crate::restrict::rules::testing::restricted;
    use serde_json::{json, Value};

    const NONE: &[Id] = &[];

    /// Motion 1 in a state without restrictions, and states 2 to 6 for the tests:
    /// `is_submitter` only, `motion.can_manage` or `is_submitter`, internal,
    /// `motion.can_see_internal`, and a name that is no permission.
    fn motions(extra: Value) -> Value {
        let mut data = with(json!({
            "motion_state/1": {"meeting_id": MEETING, "restrictions": [], "is_internal": false},
            "motion_state/2": {"meeting_id": MEETING, "restrictions": ["is_submitter"]},
            "motion_state/3": {
                "meeting_id": MEETING, "restrictions": ["motion.can_manage", "is_submitter"]
            },
            "motion_state/4": {"meeting_id": MEETING, "is_internal": true},
            "motion_state/5": {"meeting_id": MEETING, "restrictions": ["motion.can_see_internal"]},
            "motion_state/6": {"meeting_id": MEETING, "restrictions": ["unknown.permission"]},
            "motion_state/7": {"meeting_id": OTHER_MEETING},
            "motion/1": {"meeting_id": MEETING, "state_id": 1},
            "motion_submitter/50": {
                "meeting_user_id": meeting_user(SUBMITTER), "motion_id": 2, "meeting_id": MEETING
            },
            "motion_submitter/51": {
                "meeting_user_id": meeting_user(MEMBER), "motion_id": 3, "meeting_id": MEETING
            },
        }));
        merge(&mut data, extra);
        data
    }

    #[tokio::test]
    async fn motion_c_needs_can_see_in_meeting() {
        let data = motions(json!({}));
        let cases: &[(Id, &[Id])] = &[
            (PUBLIC, NONE),
            (OUTSIDER, NONE),
            (MEMBER, NONE),
            (CAN_SEE, &[1]),
            (CAN_MANAGE, &[1]),
            (CAN_MANAGE_METADATA, &[1]),
            (ADMIN, &[1]),
            (SUPERADMIN, &[1]),
            (USER_MANAGER, NONE),
            (COMMITTEE_MANAGER, NONE),
            (LOCKED_OUT, NONE),
            (OTHER_MEETING_MEMBER, NONE),
        ];
        assert_visible(&data, "motion", "C", &[1], cases).await;
    }

    #[tokio::test]
    async fn motion_c_public_access_needs_anonymous_enabled() {
        let mut data = motions(json!({}));
        assert_visible(&data, "motion", "C", &[1], &[(PUBLIC, NONE)]).await;

        enable_anonymous(&mut data);
        assert_visible(&data, "motion", "C", &[1], &[(PUBLIC, &[1])]).await;

        merge(
            &mut data,
            json!({"organization/1": {"enable_anonymous": false}}),
        );
        assert_visible(&data, "motion", "C", &[1], &[(PUBLIC, NONE)]).await;
    }

    #[tokio::test]
    async fn motion_c_locked_meeting_hides_from_superadmin() {
        let mut data = motions(json!({}));
        lock_meeting(&mut data);
        let cases: &[(Id, &[Id])] = &[(SUPERADMIN, NONE), (ADMIN, &[1]), (CAN_SEE, &[1])];
        assert_visible(&data, "motion", "C", &[1], cases).await;
    }

    #[tokio::test]
    async fn motion_c_is_submitter_restriction_admits_only_submitters() {
        // Motion 2 is submitted by SUBMITTER, motion 3 by MEMBER, who lacks
        // motion.can_see. A state restricted to submitters hides its motions even from
        // meeting admins who did not submit them.
        let data = motions(json!({
            "motion/2": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [50]},
            "motion/3": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [51]},
        }));
        let cases: &[(Id, &[Id])] = &[
            (SUBMITTER, &[2]),
            (MEMBER, NONE),
            (CAN_SEE, NONE),
            (CAN_MANAGE, NONE),
            (ADMIN, NONE),
            (SUPERADMIN, NONE),
        ];
        assert_visible(&data, "motion", "C", &[2, 3], cases).await;
    }

    #[tokio::test]
    async fn motion_c_state_restrictions_are_alternatives() {
        // State 3 admits motion.can_manage or the submitters.
        let mut data = motions(json!({
            "motion/2": {"meeting_id": MEETING, "state_id": 3, "submitter_ids": [50]},
        }));
        enable_anonymous(&mut data);
        let cases: &[(Id, &[Id])] = &[
            (SUBMITTER, &[2]),
            (CAN_MANAGE, &[2]),
            (ADMIN, &[2]),
            (SUPERADMIN, &[2]),
            (CAN_SEE, NONE),
            (CAN_MANAGE_METADATA, NONE),
            (PUBLIC, NONE),
        ];
        assert_visible(&data, "motion", "C", &[2], cases).await;
    }

    #[tokio::test]
    async fn motion_c_restriction_permission_includes_implied() {
        // motion.can_manage implies motion.can_see_internal, but can_manage_metadata does not.
        let data = motions(json!({"motion/2": {"meeting_id": MEETING, "state_id": 5}}));
        let cases: &[(Id, &[Id])] = &[
            (CAN_MANAGE, &[2]),
            (ADMIN, &[2]),
            (CAN_SEE, NONE),
            (CAN_MANAGE_METADATA, NONE),
        ];
        assert_visible(&data, "motion", "C", &[2], cases).await;
    }

    #[tokio::test]
    async fn motion_c_unknown_restriction_admits_only_admins() {
        let data = motions(json!({"motion/2": {"meeting_id": MEETING, "state_id": 6}}));
        let cases: &[(Id, &[Id])] = &[(ADMIN, &[2]), (CAN_MANAGE, NONE), (CAN_SEE, NONE)];
        assert_visible(&data, "motion", "C", &[2], cases).await;
    }

    #[tokio::test]
    async fn motion_c_forwarded_motion_needs_can_see_origin() {
        // Motion 1 was forwarded to motion 30 in the other meeting.
        let mut data = motions(json!({
            "motion/1": {"all_derived_motion_ids": [30]},
            "motion/30": {"meeting_id": OTHER_MEETING, "state_id": 7, "all_origin_ids": [1]},
            "motion/2": {
                "meeting_id": MEETING, "state_id": 3, "all_derived_motion_ids": [30]
            },
        }));
        let cases: &[(Id, &[Id])] = &[
            (ORIGIN_VIEWER, &[1]),
            (OTHER_MEETING_MEMBER, NONE),
            (MEMBER, NONE),
        ];
        assert_visible(&data, "motion", "C", &[1, 2], cases).await;

        lock_meeting(&mut data);
        assert_visible(&data, "motion", "C", &[1], &[(ORIGIN_VIEWER, NONE)]).await;
    }

    #[tokio::test]
    async fn motion_c_amendment_needs_visible_lead_motions() {
        // Motion 3 amends motion 2, which only its submitter may see. Motion 4 amends 3.
        let data = motions(json!({
            "motion/2": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [50]},
            "motion/3": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 2},
            "motion/4": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 3},
        }));
        let cases: &[(Id, &[Id])] = &[(SUBMITTER, &[2, 3, 4]), (CAN_SEE, NONE)];
        assert_visible(&data, "motion", "C", &[2, 3, 4], cases).await;
        // The lead motions count when only the amendment is asked for.
        assert_visible(
            &data,
            "motion",
            "C",
            &[4],
            &[(SUBMITTER, &[4]), (CAN_SEE, NONE)],
        )
        .await;
    }

    #[tokio::test]
    async fn motion_c_lead_motion_cycles_end() {
        // 2 -> 3 -> 4 -> 2 is a cycle through every motion. 5 leads into the cycle
        // 6 -> 7 -> 6, which does not pass through 5. Motion 8 is its own lead motion.
        let mut data = motions(json!({
            "motion/2": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 3},
            "motion/3": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 4},
            "motion/4": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 2},
            "motion/5": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 6},
            "motion/6": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 7},
            "motion/7": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 6},
            "motion/8": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 8},
        }));
        let all: &[Id] = &[2, 3, 4, 5, 6, 7, 8];
        let cases: &[(Id, &[Id])] = &[(CAN_SEE, all), (MEMBER, NONE)];
        assert_visible(&data, "motion", "C", all, cases).await;

        // A hidden motion in a cycle hides the whole cycle.
        merge(
            &mut data,
            json!({"motion/4": {"state_id": 2}, "motion/7": {"state_id": 2}}),
        );
        assert_visible(&data, "motion", "C", all, &[(CAN_SEE, &[8])]).await;
    }

    #[tokio::test]
    async fn motion_c_broken_motion_hidden() {
        // Motion 2 has no meeting, motion 3 no state, and motion 4 a lead motion that
        // does not exist.
        let data = motions(json!({
            "motion/2": {"state_id": 1},
            "motion/3": {"meeting_id": MEETING},
            "motion/4": {"meeting_id": MEETING, "state_id": 1, "lead_motion_id": 99},
        }));
        let cases: &[(Id, &[Id])] = &[(SUPERADMIN, &[1]), (CAN_SEE, &[1])];
        assert_visible(&data, "motion", "C", &[1, 2, 3, 4], cases).await;
    }

    #[tokio::test]
    async fn motion_a_visible_through_origin_or_derived() {
        // Only SUBMITTER sees motion 2, the origin of motion 3 and derived from motion 4.
        // Nobody sees motions 3 and 4 in mode C.
        let data = motions(json!({
            "motion/2": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [50]},
            "motion/3": {"meeting_id": MEETING, "state_id": 2, "all_origin_ids": [2]},
            "motion/4": {"meeting_id": MEETING, "state_id": 2, "all_derived_motion_ids": [2]},
            "motion/5": {"meeting_id": MEETING, "state_id": 2, "all_origin_ids": [99]},
        }));
        let cases: &[(Id, &[Id])] = &[(SUBMITTER, &[1, 2, 3, 4]), (CAN_SEE, &[1]), (MEMBER, NONE)];
        assert_visible(&data, "motion", "A", &[1, 2, 3, 4, 5], cases).await;
        assert_visible(&data, "motion", "C", &[3, 4], &[(SUBMITTER, NONE)]).await;
    }

    #[tokio::test]
    async fn motion_b_needs_can_manage_metadata() {
        let mut data = motions(json!({}));
        enable_anonymous(&mut data);
        let cases: &[(Id, &[Id])] = &[
            (CAN_MANAGE_METADATA, &[1]),
            (CAN_MANAGE, &[1]),
            (ADMIN, &[1]),
            (SUPERADMIN, &[1]),
            (CAN_SEE, NONE),
            (MEMBER, NONE),
            (PUBLIC, NONE),
        ];
        assert_visible(&data, "motion", "B", &[1], cases).await;
    }

    #[tokio::test]
    async fn motion_d_hidden_from_everyone() {
        let data = motions(json!({}));
        let cases: &[(Id, &[Id])] = &[(SUPERADMIN, NONE), (ADMIN, NONE), (CAN_MANAGE, NONE)];
        assert_visible(&data, "motion", "D", &[1], cases).await;
    }

    #[tokio::test]
    async fn motion_fields_restricted_by_mode() {
        // Motion 2 is in an internal state, has a recommendation, an editor and the
        // submitters 50 and 52. Motion 3 is hidden from CAN_SEE, so its submitter 53 is
        // removed from the relation list.
        let data = motions(json!({
            "motion/2": {
                "meeting_id": MEETING, "state_id": 4, "title": "Two", "recommendation_id": 1,
                "number_value": 2, "editor_ids": [60], "submitter_ids": [50, 52, 53]
            },
            "motion/3": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [53]},
            "motion_submitter/52": {"motion_id": 2, "meeting_user_id": meeting_user(CAN_SEE)},
            "motion_submitter/53": {"motion_id": 3, "meeting_user_id": meeting_user(MEMBER)},
            "motion_editor/60": {"meeting_id": MEETING, "motion_id": 2},
        }));
        let keys = [
            "motion/2/title",
            "motion/2/recommendation_id",
            "motion/2/number_value",
            "motion/2/editor_ids",
            "motion/2/submitter_ids",
        ];

        let got = restricted(&data, CAN_SEE, &keys).await;
        let expected = json!({"motion/2/title": "Two", "motion/2/submitter_ids": [50, 52]});
        assert_eq!(got, expected);

        let got = restricted(&data, CAN_MANAGE_METADATA, &keys).await;
        let expected = json!({
            "motion/2/title": "Two",
            "motion/2/recommendation_id": 1,
            "motion/2/editor_ids": [60],
            "motion/2/submitter_ids": [50, 52],
        });
        assert_eq!(got, expected);
    }

    #[tokio::test]
    async fn motion_e_internal_state_needs_can_manage_metadata() {
        // Motion 2 is in an internal state. Motion 3 is hidden in mode C from all but
        // its submitter, so managers of metadata do not see it in mode E either.
        let data = motions(json!({
            "motion/2": {"meeting_id": MEETING, "state_id": 4},
            "motion/3": {"meeting_id": MEETING, "state_id": 2, "submitter_ids": [51]},
        }));
        let cases: &[(Id, &[Id])] = &[
            (CAN_SEE, &[1]),
            (CAN_MANAGE_METADATA, &[1, 2]),
            (CAN_MANAGE, &[1, 2]),
            (ADMIN, &[1, 2]),
            (MEMBER, NONE),
        ];
        assert_visible(&data, "motion", "E", &[1, 2, 3], cases).await;
    }
}
