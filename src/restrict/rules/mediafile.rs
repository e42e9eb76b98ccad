//! Restriction rules of `mediafile`.

use super::super::context::Context;
use super::super::permission::OrganizationManagementLevel;
use super::super::RestrictError;
use super::helpers::is_admin_in_any_meeting_or_organization_manager;
use crate::models::collections::Mediafile;
use crate::models::{Collection, Id, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashSet;

/// Organization managers see the organization's files. Everyone sees files with a
/// token, meeting admins see files published to the organization's meetings, and users
/// see a file when they can see one of its meeting_mediafiles. An organization file
/// that is not published is visible only through the first two ways.
pub fn mode_a(ctx: &mut Context, ids: Vec<Id>) -> BoxFuture<'_, Result<Vec<Id>, RestrictError>> {
    Box::pin(async move {
        let organization_manager = ctx
            .has_oml(OrganizationManagementLevel::CanManageOrganization)
            .await?;
        let owners = ctx.get(Mediafile::OWNER_ID, &ids).await?;

        let mut allowed = Vec::new();
        // The files still to decide, with whether the organization owns them.
        let mut undecided: Vec<(Id, bool)> = Vec::new();
        for (id, owner) in ids.into_iter().zip(owners) {
            let Some(owner) = owner else {
                continue;
            };
            let organization_file = owner.collection == Collection::Organization;
            if organization_file && organization_manager {
                allowed.push(id);
            } else {
                undecided.push((id, organization_file));
            }
        }
        if undecided.is_empty() {
            return Ok(allowed);
        }

        let undecided_ids: Vec<Id> = undecided.iter().map(|(id, _)| *id).collect();
        let tokens = ctx.get(Mediafile::TOKEN, &undecided_ids).await?;
        let published = ctx
            .get(
                Mediafile::PUBLISHED_TO_MEETINGS_IN_ORGANIZATION_ID,
                &undecided_ids,
            )
            .await?;

        let mut meeting_admin = None;
        let mut by_meeting_mediafile = Vec::new();
        for (((id, organization_file), token), published) in
            undecided.into_iter().zip(tokens).zip(published)
        {
            if token.is_some_and(|token| !token.is_empty()) {
                allowed.push(id);
                continue;
            }
            if published.is_some() {
                let admin = match meeting_admin {
                    Some(admin) => admin,
                    None => {
                        let admin = is_admin_in_any_meeting_or_organization_manager(ctx).await?;
                        meeting_admin = Some(admin);
                        admin
                    }
                };
                if admin {
                    allowed.push(id);
                    continue;
                }
            } else if organization_file {
                continue;
            }
            by_meeting_mediafile.push(id);
        }

        allowed.extend(with_visible_meeting_mediafile(ctx, by_meeting_mediafile).await?);
        Ok(allowed)
    })
}

/// Selects the files among `ids` with a meeting_mediafile the viewer can see.
async fn with_visible_meeting_mediafile(
    ctx: &mut Context,
    ids: Vec<Id>,
) -> Result<Vec<Id>, RestrictError> {
    if ids.is_empty() {
        return Ok(ids);
    }
    let lists = ctx.get(Mediafile::MEETING_MEDIAFILE_IDS, &ids).await?;
    let all: Vec<Id> = lists.iter().flatten().flatten().copied().collect();
    let visible: HashSet<Id> = ctx
        .visible(Collection::MeetingMediafile, RestrictionMode::A, &all)
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .into_iter()
        .zip(lists)
        .filter(|(_, list)| list.iter().flatten().any(|m| visible.contains(m)))
        .map(|(id, _)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::models::Id;
    use crate::restrict::rules::testing::visible_ids;
    use serde_json::{json, Value};

    const ALL: [Id; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    /// Meeting 7 of committee 70 with the admin group 71, group 72 (mediafile.can_see),
    /// group 73 (no permissions) and the public access group 75 (mediafile.can_see).
    /// Meeting 8 has the admin group 81.
    ///
    /// Mediafiles:
    /// - 1 of the organization, unpublished but used as the public meeting_mediafile 21,
    /// - 2 of the organization with a token,
    /// - 3 of the organization, published and used as meeting_mediafile 23 (shared with
    ///   75), 4 of the organization, published and unused,
    /// - 5, 6 and 7 of meeting 7 as meeting_mediafiles 25 (public), 26 (private) and 27
    ///   (a logo),
    /// - 8 with a token but without owner.
    fn data() -> Value {
        json!({
            "organization/1": {"id": 1, "enable_anonymous": true},
            "committee/70": {"id": 70, "meeting_ids": [7]},
            "meeting/7": {"id": 7, "committee_id": 70, "admin_group_id": 71,
                "anonymous_group_id": 75, "group_ids": [71, 72, 73, 75]},
            "meeting/8": {"id": 8, "committee_id": 70, "admin_group_id": 81,
                "group_ids": [81]},
            "group/71": {"id": 71, "meeting_id": 7, "admin_group_for_meeting_id": 7,
                "meeting_user_ids": [10]},
            "group/72": {"id": 72, "meeting_id": 7, "meeting_user_ids": [11],
                "permissions": ["mediafile.can_see"]},
            "group/73": {"id": 73, "meeting_id": 7, "meeting_user_ids": [12],
                "permissions": []},
            "group/75": {"id": 75, "meeting_id": 7, "anonymous_group_for_meeting_id": 7,
                "permissions": ["mediafile.can_see"]},
            "group/81": {"id": 81, "meeting_id": 8, "admin_group_for_meeting_id": 8,
                "meeting_user_ids": [13]},
            "meeting_user/10": {"id": 10, "user_id": 4, "meeting_id": 7, "group_ids": [71]},
            "meeting_user/11": {"id": 11, "user_id": 5, "meeting_id": 7, "group_ids": [72]},
            "meeting_user/12": {"id": 12, "user_id": 6, "meeting_id": 7, "group_ids": [73]},
            "meeting_user/13": {"id": 13, "user_id": 7, "meeting_id": 8, "group_ids": [81]},
            "mediafile/1": {"id": 1, "owner_id": "organization/1", "meeting_mediafile_ids": [21]},
            "mediafile/2": {"id": 2, "owner_id": "organization/1", "token": "web_header"},
            "mediafile/3": {"id": 3, "owner_id": "organization/1",
                "published_to_meetings_in_organization_id": 1, "meeting_mediafile_ids": [23]},
            "mediafile/4": {"id": 4, "owner_id": "organization/1",
                "published_to_meetings_in_organization_id": 1},
            "mediafile/5": {"id": 5, "owner_id": "meeting/7", "meeting_mediafile_ids": [25]},
            "mediafile/6": {"id": 6, "owner_id": "meeting/7", "meeting_mediafile_ids": [26]},
            "mediafile/7": {"id": 7, "owner_id": "meeting/7", "meeting_mediafile_ids": [27]},
            "mediafile/8": {"id": 8, "token": "t"},
            "meeting_mediafile/21": {"id": 21, "meeting_id": 7, "mediafile_id": 1,
                "is_public": true},
            "meeting_mediafile/23": {"id": 23, "meeting_id": 7, "mediafile_id": 3,
                "is_public": false, "inherited_access_group_ids": [75]},
            "meeting_mediafile/25": {"id": 25, "meeting_id": 7, "mediafile_id": 5,
                "is_public": true},
            "meeting_mediafile/26": {"id": 26, "meeting_id": 7, "mediafile_id": 6,
                "is_public": false},
            "meeting_mediafile/27": {"id": 27, "meeting_id": 7, "mediafile_id": 7,
                "is_public": false, "used_as_font_bold_in_meeting_id": 7},
            "user/1": {"id": 1, "organization_management_level": "superadmin"},
            "user/2": {"id": 2, "organization_management_level": "can_manage_organization"},
            "user/3": {"id": 3, "organization_management_level": "can_manage_users"},
            "user/4": {"id": 4, "meeting_user_ids": [10]},
            "user/5": {"id": 5, "meeting_user_ids": [11]},
            "user/6": {"id": 6, "meeting_user_ids": [12]},
            "user/7": {"id": 7, "meeting_user_ids": [13]},
            "user/9": {"id": 9}
        })
    }

    async fn visible(data: &Value, user_id: Id) -> Vec<Id> {
        visible_ids(data, user_id, "mediafile", "A", &ALL).await
    }

    #[tokio::test]
    async fn mediafile_a_organization_files_for_organization_managers() {
        let data = data();
        assert_eq!(
            visible(&data, 2).await,
            vec![1, 2, 3, 4, 5, 6, 7],
            "can_manage_organization"
        );
        assert_eq!(
            visible(&data, 1).await,
            vec![1, 2, 3, 4, 5, 6, 7],
            "superadmin"
        );
    }

    #[tokio::test]
    async fn mediafile_a_with_token_for_everyone() {
        let data = data();
        assert_eq!(visible(&data, 0).await, vec![2], "public access disabled");
        assert_eq!(visible(&data, 9).await, vec![2], "no meeting_user");
        assert_eq!(visible(&data, 3).await, vec![2], "can_manage_users");
    }

    #[tokio::test]
    async fn mediafile_a_published_for_admins_of_any_meeting() {
        let data = data();
        assert_eq!(visible(&data, 7).await, vec![2, 3, 4], "admin of meeting 8");
        assert_eq!(
            visible(&data, 4).await,
            vec![2, 3, 4, 5, 6, 7],
            "admin of meeting 7"
        );
    }

    #[tokio::test]
    async fn mediafile_a_through_meeting_mediafile() {
        let data = data();
        assert_eq!(visible(&data, 5).await, vec![2, 5, 7], "mediafile.can_see");
        assert_eq!(
            visible(&data, 6).await,
            vec![2, 7],
            "member without permissions"
        );
    }

    #[tokio::test]
    async fn mediafile_a_unpublished_organization_file_hidden() {
        // Meeting_mediafile 21 is public, but its organization file 1 is not published.
        let data = data();
        let ids = [1];
        assert_eq!(
            visible_ids(&data, 5, "meeting_mediafile", "A", &[21]).await,
            vec![21],
            "the meeting_mediafile itself"
        );
        assert_eq!(
            visible_ids(&data, 5, "mediafile", "A", &ids).await,
            Vec::<Id>::new(),
            "the file"
        );
    }

    #[tokio::test]
    async fn mediafile_a_published_for_public_access_group() {
        let mut data = data();
        data["meeting/7"]["enable_anonymous"] = json!(true);
        assert_eq!(visible(&data, 0).await, vec![2, 3, 5, 7]);
    }

    #[tokio::test]
    async fn mediafile_a_locked_meeting_hides_meeting_files() {
        let mut data = data();
        data["meeting/7"]["locked_from_inside"] = json!(true);
        assert_eq!(visible(&data, 1).await, vec![1, 2, 3, 4], "superadmin");
        assert_eq!(
            visible(&data, 5).await,
            vec![2, 5, 7],
            "member with mediafile.can_see"
        );
    }
}
