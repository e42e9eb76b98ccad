//! Restriction rules of `meeting_mediafile`.

use super::super::context::Context;
use super::super::permission::Permission;
use super::super::perms::Perms;
use super::super::RestrictError;
use super::by_meeting;
use crate::models::collections::MeetingMediafile;
use crate::models::{Collection, Field, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;
use std::sync::Arc;

/// The fields that make a meeting_mediafile a logo or font of its meeting.
const LOGO_AND_FONT_FIELDS: [Field<MeetingMediafile, Id>; 16] = [
    MeetingMediafile::USED_AS_LOGO_PROJECTOR_MAIN_IN_MEETING_ID,
    MeetingMediafile::USED_AS_LOGO_PROJECTOR_HEADER_IN_MEETING_ID,
    MeetingMediafile::USED_AS_LOGO_WEB_HEADER_IN_MEETING_ID,
    MeetingMediafile::USED_AS_LOGO_PDF_HEADER_L_IN_MEETING_ID,
    MeetingMediafile::USED_AS_LOGO_PDF_HEADER_R_IN_MEETING_ID,
    MeetingMediafile::USED_AS_LOGO_PDF_FOOTER_L_IN_MEETING_ID,
    MeetingMediafile::USED_AS_LOGO_PDF_FOOTER_R_IN_MEETING_ID,
    MeetingMediafile::USED_AS_LOGO_PDF_BALLOT_PAPER_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_REGULAR_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_ITALIC_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_BOLD_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_BOLD_ITALIC_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_MONOSPACE_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_CHYRON_SPEAKER_NAME_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_PROJECTOR_H1_IN_MEETING_ID,
    MeetingMediafile::USED_AS_FONT_PROJECTOR_H2_IN_MEETING_ID,
];

/// Only users who can see the meeting (meeting mode B) see its meeting_mediafiles. Of
/// those, meeting admins see all of them. The others see logos and fonts, files on a
/// projection they can see, and, with `mediafile.can_see`, public files and files
/// shared with one of their groups.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let grouped = by_meeting(ctx, MeetingMediafile::MEETING_ID, &ids).await?;
        let meetings: Vec<Id> = grouped.keys().copied().collect();
        let visible_meetings = ctx
            .visible(Collection::Meeting, RestrictionMode::B, &meetings)
            .await?;

        let mut allowed = Vec::new();
        let mut undecided: Vec<(Id, Option<Arc<Perms>>)> = Vec::new();
        for meeting in visible_meetings {
            let Some(ids) = grouped.get(&meeting) else {
                continue;
            };
            let perms = ctx.perms(meeting).await?;
            if perms.as_ref().is_some_and(|perms| perms.is_admin()) {
                allowed.extend(ids);
            } else {
                undecided.extend(ids.iter().map(|id| (*id, perms.clone())));
            }
        }

        let (logos, undecided) = split_logos_and_fonts(ctx, undecided).await?;
        allowed.extend(logos);
        let (projected, undecided) = split_projected(ctx, undecided).await?;
        allowed.extend(projected);
        allowed.extend(shared_with_viewer(ctx, undecided).await?);
        Ok(allowed)
    })
}

/// Splits `entries` into the ids used as a logo or font and the entries that are not.
async fn split_logos_and_fonts(
    ctx: &mut Context,
    entries: Vec<(Id, Option<Arc<Perms>>)>,
) -> Result<(Vec<Id>, Vec<(Id, Option<Arc<Perms>>)>), RestrictError> {
    if entries.is_empty() {
        return Ok((Vec::new(), entries));
    }
    let ids: Vec<Id> = entries.iter().map(|(id, _)| *id).collect();
    let mut used = vec![false; ids.len()];
    for field in LOGO_AND_FONT_FIELDS {
        let values = ctx.get(field, &ids).await?;
        for (used, value) in used.iter_mut().zip(values) {
            *used |= value.is_some();
        }
    }

    let mut logos = Vec::new();
    let mut rest = Vec::new();
    for (entry, used) in entries.into_iter().zip(used) {
        if used {
            logos.push(entry.0);
        } else {
            rest.push(entry);
        }
    }
    Ok((logos, rest))
}

/// Splits `entries` into the ids with a projection the viewer can see (projection mode
/// A) and the entries without.
async fn split_projected(
    ctx: &mut Context,
    entries: Vec<(Id, Option<Arc<Perms>>)>,
) -> Result<(Vec<Id>, Vec<(Id, Option<Arc<Perms>>)>), RestrictError> {
    if entries.is_empty() {
        return Ok((Vec::new(), entries));
    }
    let ids: Vec<Id> = entries.iter().map(|(id, _)| *id).collect();
    let projection_lists = ctx.get(MeetingMediafile::PROJECTION_IDS, &ids).await?;
    let all_projections: Vec<Id> = projection_lists
        .iter()
        .flatten()
        .flatten()
        .copied()
        .collect();
    let visible: HashSet<Id> = ctx
        .visible(Collection::Projection, RestrictionMode::A, &all_projections)
        .await?
        .into_iter()
        .collect();

    let mut projected = Vec::new();
    let mut rest = Vec::new();
    for (entry, projections) in entries.into_iter().zip(projection_lists) {
        if projections
            .unwrap_or_default()
            .iter()
            .any(|p| visible.contains(p))
        {
            projected.push(entry.0);
        } else {
            rest.push(entry);
        }
    }
    Ok((projected, rest))
}

/// Selects the ids whose meeting grants the viewer `mediafile.can_see` and that are
/// public or list one of the viewer's groups in `inherited_access_group_ids`.
async fn shared_with_viewer(
    ctx: &mut Context,
    entries: Vec<(Id, Option<Arc<Perms>>)>,
) -> Result<Vec<Id>, RestrictError> {
    let entries: Vec<(Id, Arc<Perms>)> = entries
        .into_iter()
        .filter_map(|(id, perms)| Some((id, perms?)))
        .filter(|(_, perms)| perms.has(Permission::MediafileCanSee))
        .collect();
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Id> = entries.iter().map(|(id, _)| *id).collect();
    let public = ctx.get(MeetingMediafile::IS_PUBLIC, &ids).await?;
    let access_groups = ctx
        .get(MeetingMediafile::INHERITED_ACCESS_GROUP_IDS, &ids)
        .await?;
    Ok(entries
        .into_iter()
        .zip(public)
        .zip(access_groups)
        .filter(|(((_, perms), public), groups)| {
            public.unwrap_or(false) || perms.in_group(groups.as_deref().unwrap_or_default())
        })
        .map(|(((id, _), _), _)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    const NONE: Vec<Id> = Vec::new();
    const ALL: [Id; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];

    /// Meeting 7 of committee 70 with the admin group 71, group 72 (mediafile.can_see),
    /// group 73 (no permissions), group 74 (mediafile.can_manage), the public access
    /// group 75 (mediafile.can_see) and group 76 (projector.can_see).
    ///
    /// Meeting_mediafiles:
    /// - 1 private, 2 a logo, 3 public,
    /// - 4 shared with 72, 5 shared with 73, 6 shared with 75,
    /// - 7 on projection 4 (current on projector 5), 9 on projection 6 (on no projector),
    /// - 8 without meeting.
    fn data() -> Value {
        json!({
            "organization/1": {"id": 1, "enable_anonymous": true},
            "committee/70": {"id": 70, "meeting_ids": [7]},
            "meeting/7": {"id": 7, "committee_id": 70, "admin_group_id": 71,
                "anonymous_group_id": 75, "group_ids": [71, 72, 73, 74, 75, 76]},
            "group/71": {"id": 71, "meeting_id": 7, "admin_group_for_meeting_id": 7,
                "meeting_user_ids": [10]},
            "group/72": {"id": 72, "meeting_id": 7, "meeting_user_ids": [11],
                "permissions": ["mediafile.can_see"]},
            "group/73": {"id": 73, "meeting_id": 7, "meeting_user_ids": [12],
                "permissions": []},
            "group/74": {"id": 74, "meeting_id": 7, "meeting_user_ids": [13],
                "permissions": ["mediafile.can_manage"]},
            "group/75": {"id": 75, "meeting_id": 7, "anonymous_group_for_meeting_id": 7,
                "permissions": ["mediafile.can_see"]},
            "group/76": {"id": 76, "meeting_id": 7, "meeting_user_ids": [14],
                "permissions": ["projector.can_see"]},
            "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 7, "group_ids": [71]},
            "meeting_user/11": {"id": 11, "user_id": 5, "meeting_id": 7, "group_ids": [72]},
            "meeting_user/12": {"id": 12, "user_id": 6, "meeting_id": 7, "group_ids": [73]},
            "meeting_user/13": {"id": 13, "user_id": 7, "meeting_id": 7, "group_ids": [74]},
            "meeting_user/14": {"id": 14, "user_id": 10, "meeting_id": 7, "group_ids": [76]},
            "meeting_mediafile/1": {"id": 1, "meeting_id": 7, "is_public": false},
            "meeting_mediafile/2": {"id": 2, "meeting_id": 7, "is_public": false,
                "used_as_logo_projector_main_in_meeting_id": 7},
            "meeting_mediafile/3": {"id": 3, "meeting_id": 7, "is_public": true},
            "meeting_mediafile/4": {"id": 4, "meeting_id": 7, "is_public": false,
                "inherited_access_group_ids": [72]},
            "meeting_mediafile/5": {"id": 5, "meeting_id": 7, "is_public": false,
                "inherited_access_group_ids": [73]},
            "meeting_mediafile/6": {"id": 6, "meeting_id": 7, "is_public": false,
                "inherited_access_group_ids": [75]},
            "meeting_mediafile/7": {"id": 7, "meeting_id": 7, "is_public": false,
                "projection_ids": [4]},
            "meeting_mediafile/8": {"id": 8, "is_public": true},
            "meeting_mediafile/9": {"id": 9, "meeting_id": 7, "is_public": false,
                "projection_ids": [6]},
            "projection/4": {"id": 4, "meeting_id": 7, "current_projector_id": 5,
                "content_object_id": "meeting_mediafile/7"},
            "projection/6": {"id": 6, "meeting_id": 7,
                "content_object_id": "meeting_mediafile/9"},
            "projector/5": {"id": 5, "meeting_id": 7, "current_projection_ids": [4]},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2, "organization_management_level": "can_manage_organization"},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4, "meeting_user_ids": [10]},
            "user/5": {"id": 5, "meeting_user_ids": [11]},
            "user/6": {"id": 6, "meeting_user_ids": [12]},
            "user/7": {"id": 7, "meeting_user_ids": [13]},
            "user/8": {"id": 8, "committee_management_ids": [70]},
            "user/9": {"id": 9},
            "user/10": {"id": 10, "meeting_user_ids": [14]}
        })
    }

    async fn visible(data: &Value, user_id: Id, ids: &[Id]) -> Vec<Id> {
        visible_ids(data, user_id, "meeting_mediafile", "A", ids).await
    }

    #[tokio::test]
    async fn meeting_mediafile_a_all_for_meeting_admins() {
        let data = data();
        let meeting_7 = vec![1, 2, 3, 4, 5, 6, 7, 9];
        assert_eq!(visible(&data, 4, &ALL).await, meeting_7, "meeting admin");
        assert_eq!(
            visible(&data, 2, &ALL).await,
            meeting_7,
            "can_manage_organization"
        );
        assert_eq!(visible(&data, 1, &ALL).await, meeting_7, "superadmin");
    }

    #[tokio::test]
    async fn meeting_mediafile_a_needs_visible_meeting() {
        let data = data();
        assert_eq!(visible(&data, 9, &ALL).await, NONE, "no meeting_user");
        assert_eq!(visible(&data, 3, &ALL).await, NONE, "can_manage_users");
        assert_eq!(
            visible(&data, 0, &ALL).await,
            NONE,
            "public access disabled"
        );
    }

    #[tokio::test]
    async fn meeting_mediafile_a_logos_for_everyone_in_meeting() {
        let data = data();
        assert_eq!(
            visible(&data, 6, &ALL).await,
            vec![2],
            "member without permissions"
        );
        assert_eq!(visible(&data, 8, &ALL).await, vec![2], "committee manager");
    }

    #[tokio::test]
    async fn meeting_mediafile_a_with_mediafile_can_see() {
        let data = data();
        assert_eq!(visible(&data, 5, &ALL).await, vec![2, 3, 4], "in group 72");
        assert_eq!(
            visible(&data, 7, &ALL).await,
            vec![2, 3],
            "can_manage in group 74"
        );
    }

    #[tokio::test]
    async fn meeting_mediafile_a_for_public_access_group() {
        let mut data = data();
        data["meeting/7"]["enable_anonymous"] = json!(true);
        assert_eq!(visible(&data, 0, &ALL).await, vec![2, 3, 6]);
    }

    #[tokio::test]
    async fn meeting_mediafile_a_on_visible_projection() {
        // User 1 is a superadmin and a member of group 76 of the locked meeting, so it
        // sees projection 4 whether projection decides by the superadmin level or by
        // projector.can_see and the current projector. Meeting_mediafile 9 is left out
        // because only the second way hides its projection 6.
        let mut data = data();
        data["meeting/7"]["locked_from_inside"] = json!(true);
        data["group/76"]["meeting_user_ids"] = json!([14, 15]);
        data["meeting_user/15"] = json!({"id": 15, "user_id": 1, "meeting_id": 7,
            "group_ids": [76]});
        data["user/1"]["meeting_user_ids"] = json!([15]);
        assert_eq!(
            visible(&data, 1, &[1, 2, 3, 4, 5, 6, 7, 8]).await,
            vec![2, 7]
        );
    }

    #[tokio::test]
    async fn meeting_mediafile_a_hidden_on_projection_without_projector() {
        // User 10 has projector.can_see, but projection 6 is on no projector.
        let data = data();
        assert_eq!(visible(&data, 10, &[1, 9]).await, NONE);
    }

    #[tokio::test]
    async fn meeting_mediafile_a_locked_meeting_hides_logos() {
        let mut data = data();
        data["meeting/7"]["locked_from_inside"] = json!(true);
        assert_eq!(visible(&data, 1, &ALL).await, NONE, "superadmin");
        assert_eq!(visible(&data, 8, &ALL).await, NONE, "committee manager");
        assert_eq!(
            visible(&data, 4, &ALL).await,
            vec![1, 2, 3, 4, 5, 6, 7, 9],
            "admin"
        );
    }
}
