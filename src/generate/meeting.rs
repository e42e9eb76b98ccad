//! One generated meeting: its committee, settings, groups, participants, projectors and
//! projections. The agenda and motion parts live in `agenda.rs` and `motions.rs`.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

use super::agenda::agenda_order;
use super::store::Store;
use super::{GenerateOptions, Organization};
use crate::models::{Collection, Fqid};

/// 2024-06-20 08:00 UTC, the start of the first meeting. Later meetings start a week apart.
const FIRST_MEETING_START: i64 = 1_718_870_400;
const WEEK: i64 = 7 * 24 * 60 * 60;

const DEFAULT_PERMISSIONS: &[&str] = &[
    "agenda_item.can_see",
    "assignment.can_see",
    "list_of_speakers.can_see",
    "mediafile.can_see",
    "meeting.can_see_frontpage",
    "motion.can_see",
    "projector.can_see",
    "user.can_see",
];

const DELEGATE_PERMISSIONS: &[&str] = &[
    "agenda_item.can_see_internal",
    "assignment.can_nominate_other",
    "assignment.can_nominate_self",
    "list_of_speakers.can_be_speaker",
    "list_of_speakers.can_see",
    "mediafile.can_see",
    "meeting.can_see_autopilot",
    "meeting.can_see_frontpage",
    "meeting.can_see_livestream",
    "motion.can_create",
    "motion.can_create_amendments",
    "motion.can_support",
    "projector.can_see",
    "user.can_see",
];

const STAFF_PERMISSIONS: &[&str] = &[
    "agenda_item.can_manage",
    "assignment.can_manage",
    "chat.can_manage",
    "list_of_speakers.can_manage",
    "mediafile.can_manage",
    "meeting.can_see_frontpage",
    "meeting.can_see_history",
    "motion.can_manage",
    "poll.can_manage",
    "projector.can_manage",
    "tag.can_manage",
    "user.can_manage",
];

/// The groups every generated meeting has. The admin group has no permissions listed,
/// because OpenSlides grants its members every permission.
pub(super) struct Groups {
    pub default: Fqid,
    pub admin: Fqid,
    pub delegates: Fqid,
    pub staff: Fqid,
}

/// The group a participant belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Admin,
    Staff,
    Delegate,
    Guest,
}

/// A user in one meeting.
pub(super) struct Participant {
    pub user: Fqid,
    pub meeting_user: Fqid,
    pub role: Role,
    pub present: bool,
    /// Index of the participant this one delegated the vote to.
    pub delegated_to: Option<usize>,
}

/// The projectors of a meeting and the objects they can show besides agenda content.
pub(super) struct Projectors {
    /// The reference projector comes first.
    pub all: Vec<Fqid>,
    pub message: Fqid,
    pub speaking_time: Fqid,
}

/// Shared state while building one meeting.
pub(super) struct MeetingBuilder<'a> {
    pub store: &'a mut Store,
    pub rng: &'a mut StdRng,
    pub meeting: Fqid,
    pub start_time: i64,
    /// The last `sequential_number` used per collection in this meeting.
    sequential_numbers: BTreeMap<Collection, u64>,
}

/// Builds meeting number `index` (0-based) with its committee and all content, and returns
/// the meeting.
pub(super) fn build_meeting(
    store: &mut Store,
    rng: &mut StdRng,
    options: &GenerateOptions,
    organization: &Organization,
    users: &[Fqid],
    index: usize,
) -> Fqid {
    let number = index + 1;
    let committee = store.create(Collection::Committee);
    store.set(committee, "name", format!("Committee {number}"));
    store.set(
        committee,
        "description",
        "<p>Prepares and holds the general assembly.</p>",
    );
    store.link(committee, "organization_id", organization.id);
    store.link(committee, "organization_tag_ids", organization.tag);
    if let Some(admin) = users.first() {
        store.link(*admin, "committee_management_ids", committee);
    }

    let meeting = store.create(Collection::Meeting);
    let start_time = FIRST_MEETING_START + index as i64 * WEEK;
    store.link(meeting, "committee_id", committee);
    store.link(committee, "default_meeting_id", meeting);
    store.link(meeting, "is_active_in_organization_id", organization.id);
    store.link(meeting, "organization_tag_ids", organization.tag);
    set_meeting_settings(store, meeting, number, start_time);

    let mut builder = MeetingBuilder {
        store,
        rng,
        meeting,
        start_time,
        sequential_numbers: BTreeMap::new(),
    };
    let groups = builder.create_groups();
    let projectors = builder.create_projectors(options.projectors.max(1));
    let participants = builder.add_participants(users, committee, &groups);

    let workflows = builder.create_workflows();
    let agenda = builder.create_topics(options);
    let motions = builder.create_motions(options, &workflows, &participants, &agenda);
    let lists_of_speakers = agenda_order(&agenda, &motions.entries);
    let current =
        builder.add_speakers(options.lists_of_speakers, &lists_of_speakers, &participants);
    let started_poll =
        builder.create_polls(options.polls, &motions.motions, &participants, &groups);

    let current_content = current.map(|index| lists_of_speakers[index].content);
    let neighbour = |offset: isize| {
        current
            .and_then(|index| index.checked_add_signed(offset))
            .and_then(|index| lists_of_speakers.get(index))
            .map(|entry| entry.content)
    };
    builder.create_projections(
        &projectors,
        current_content,
        neighbour(1),
        neighbour(-1),
        started_poll,
    );
    meeting
}

/// Sets the meeting's scalar fields: the required ones and common settings.
fn set_meeting_settings(store: &mut Store, meeting: Fqid, number: usize, start_time: i64) {
    let settings: [(&str, Value); 60] = [
        ("name", json!(format!("General Assembly {number}"))),
        ("description", json!("Presentation and assembly system")),
        ("location", json!("Town hall")),
        ("start_time", json!(start_time)),
        ("end_time", json!(start_time + 2 * 24 * 60 * 60)),
        ("language", json!("en")),
        ("welcome_title", json!("Welcome to OpenSlides")),
        ("welcome_text", json!("<p>Space for your welcome text.</p>")),
        ("enable_anonymous", json!(false)),
        ("locked_from_inside", json!(false)),
        ("conference_show", json!(false)),
        ("applause_enable", json!(false)),
        ("applause_type", json!("applause-type-bar")),
        ("projector_countdown_default_time", json!(60)),
        ("projector_countdown_warning_time", json!(0)),
        ("export_csv_encoding", json!("utf-8")),
        ("export_csv_separator", json!(";")),
        ("export_pdf_pagenumber_alignment", json!("center")),
        ("export_pdf_fontsize", json!(10)),
        ("export_pdf_line_height", json!(1.25)),
        ("export_pdf_pagesize", json!("A4")),
        ("agenda_enable_numbering", json!(true)),
        ("agenda_number_prefix", json!("TOP")),
        ("agenda_numeral_system", json!("arabic")),
        ("agenda_item_creation", json!("default_no")),
        ("agenda_new_items_default_visibility", json!("internal")),
        ("agenda_show_internal_items_on_projector", json!(false)),
        ("list_of_speakers_amount_last_on_projector", json!(0)),
        ("list_of_speakers_amount_next_on_projector", json!(-1)),
        ("list_of_speakers_couple_countdown", json!(true)),
        (
            "list_of_speakers_show_amount_of_speakers_on_slide",
            json!(true),
        ),
        ("list_of_speakers_present_users_only", json!(false)),
        (
            "list_of_speakers_enable_point_of_order_speakers",
            json!(true),
        ),
        ("list_of_speakers_initially_closed", json!(false)),
        ("motions_preamble", json!("The assembly may decide:")),
        ("motions_default_line_numbering", json!("outside")),
        ("motions_line_length", json!(85)),
        ("motions_reason_required", json!(false)),
        ("motions_enable_text_on_projector", json!(true)),
        ("motions_recommendations_by", json!("Board")),
        ("motions_recommendation_text_mode", json!("diff")),
        ("motions_default_sorting", json!("number")),
        ("motions_number_type", json!("per_category")),
        ("motions_number_min_digits", json!(2)),
        ("motions_amendments_enabled", json!(true)),
        ("motions_amendments_text_mode", json!("paragraph")),
        ("motions_supporters_min_amount", json!(1)),
        ("motion_poll_default_type", json!("named")),
        ("motion_poll_default_method", json!("YNA")),
        ("motion_poll_default_onehundred_percent_base", json!("YNA")),
        ("motion_poll_default_backend", json!("fast")),
        (
            "motion_poll_projection_name_order_first",
            json!("last_name"),
        ),
        ("motion_poll_projection_max_columns", json!(6)),
        ("users_enable_presence_view", json!(true)),
        ("users_enable_vote_delegations", json!(true)),
        ("users_allow_self_set_present", json!(true)),
        ("assignment_poll_default_type", json!("pseudoanonymous")),
        (
            "assignment_poll_default_onehundred_percent_base",
            json!("valid"),
        ),
        ("poll_default_type", json!("analog")),
        ("poll_couple_countdown", json!(true)),
    ];
    for (field, value) in settings {
        store.set(meeting, field, value);
    }
}

impl MeetingBuilder<'_> {
    fn create_groups(&mut self) -> Groups {
        let default = self.create_group("Default", 1, DEFAULT_PERMISSIONS);
        let admin = self.create_group("Admin", 2, &[]);
        let delegates = self.create_group("Delegates", 3, DELEGATE_PERMISSIONS);
        let staff = self.create_group("Staff", 4, STAFF_PERMISSIONS);

        let meeting = self.meeting;
        self.store.link(meeting, "default_group_id", default);
        self.store.link(meeting, "admin_group_id", admin);
        for field in [
            "motion_poll_default_group_ids",
            "assignment_poll_default_group_ids",
            "topic_poll_default_group_ids",
            "poll_default_group_ids",
        ] {
            self.store.link(meeting, field, delegates);
        }
        Groups {
            default,
            admin,
            delegates,
            staff,
        }
    }

    fn create_group(&mut self, name: &str, weight: u64, permissions: &[&str]) -> Fqid {
        let group = self.store.create(Collection::Group);
        self.store.set(group, "name", name);
        self.store.set(group, "weight", weight);
        self.store.set(group, "permissions", permissions);
        self.store.link(group, "meeting_id", self.meeting);
        group
    }

    /// Creates the projectors. The first is the reference projector and the default for
    /// every kind of content, except lists of speakers, which go to the second if it exists.
    fn create_projectors(&mut self, count: usize) -> Projectors {
        let projectors: Vec<Fqid> = (1..=count).map(|_| self.create_projector()).collect();
        let main = projectors[0];
        let side = projectors.get(1).copied().unwrap_or(main);

        let meeting = self.meeting;
        self.store.link(meeting, "reference_projector_id", main);
        let default_fields = Collection::Meeting
            .field_ids()
            .map(|field| field.name())
            .filter(|name| name.starts_with("default_projector_"));
        for field in default_fields {
            let shows_speakers =
                field.contains("list_of_speakers") || field.contains("current_los");
            let projector = if shows_speakers { side } else { main };
            self.store.link(meeting, field, projector);
        }

        let speaking_time = self.create_countdown("Speaking time");
        self.store
            .link(meeting, "list_of_speakers_countdown_id", speaking_time);
        let voting = self.create_countdown("Voting");
        self.store.link(meeting, "poll_countdown_id", voting);

        let message = self.store.create(Collection::ProjectorMessage);
        self.store.set(
            message,
            "message",
            "<p>Please switch your phones to silent mode.</p>",
        );
        self.store.link(message, "meeting_id", meeting);
        Projectors {
            all: projectors,
            message,
            speaking_time,
        }
    }

    fn create_countdown(&mut self, title: &str) -> Fqid {
        let countdown = self.store.create(Collection::ProjectorCountdown);
        self.store.set(countdown, "title", title);
        self.store.set(countdown, "description", "");
        self.store.set(countdown, "default_time", 60);
        self.store.set(countdown, "countdown_time", 60.0);
        self.store.set(countdown, "running", false);
        self.store.link(countdown, "meeting_id", self.meeting);
        countdown
    }

    fn create_projector(&mut self) -> Fqid {
        let projector = self.store.create(Collection::Projector);
        let number = self.next_sequential_number(Collection::Projector);
        let name = match number {
            1 => "Main projector".to_string(),
            2 => "Side projector".to_string(),
            _ => format!("Projector {number}"),
        };
        let settings: [(&str, Value); 17] = [
            ("name", json!(name)),
            ("sequential_number", json!(number)),
            ("is_internal", json!(false)),
            ("scale", json!(0)),
            ("scroll", json!(0)),
            ("width", json!(1200)),
            ("aspect_ratio_numerator", json!(16)),
            ("aspect_ratio_denominator", json!(9)),
            ("color", json!("#000000")),
            ("background_color", json!("#ffffff")),
            ("header_background_color", json!("#317796")),
            ("header_font_color", json!("#f5f5f5")),
            ("header_h1_color", json!("#317796")),
            ("show_header_footer", json!(true)),
            ("show_title", json!(true)),
            ("show_logo", json!(true)),
            ("show_clock", json!(true)),
        ];
        for (field, value) in settings {
            self.store.set(projector, field, value);
        }
        self.store.link(projector, "meeting_id", self.meeting);
        projector
    }

    /// Makes every user a participant. User 1 joins the admin group, about one in 25 the
    /// staff, three in four of the rest the delegates and the others the default group.
    /// Some absent delegates delegate their vote to a present one.
    fn add_participants(
        &mut self,
        users: &[Fqid],
        committee: Fqid,
        groups: &Groups,
    ) -> Vec<Participant> {
        let meeting = self.meeting;
        let levels = self.create_structure_levels();
        let staff_count = (users.len() / 25).max(1);
        let mut participants = Vec::with_capacity(users.len());

        for (index, user) in users.iter().enumerate() {
            let role = match index {
                0 => Role::Admin,
                _ if index <= staff_count => Role::Staff,
                _ if self.rng.gen_bool(0.75) => Role::Delegate,
                _ => Role::Guest,
            };
            let group = match role {
                Role::Admin => groups.admin,
                Role::Staff => groups.staff,
                Role::Delegate => groups.delegates,
                Role::Guest => groups.default,
            };
            let present = match role {
                Role::Admin | Role::Staff => true,
                Role::Delegate => self.rng.gen_bool(0.8),
                Role::Guest => self.rng.gen_bool(0.3),
            };

            let meeting_user = self.store.create(Collection::MeetingUser);
            self.store.link(meeting_user, "user_id", *user);
            self.store.link(meeting_user, "meeting_id", meeting);
            self.store.link(meeting_user, "group_ids", group);
            self.store
                .set(meeting_user, "number", format!("{:05}", user.id));
            self.store.set(meeting_user, "vote_weight", "1.000000");
            if role == Role::Delegate {
                let level = levels[participants.len() % levels.len()];
                self.store.link(meeting_user, "structure_level_ids", level);
            }
            self.store.link(*user, "committee_ids", committee);
            if present {
                self.store.link(*user, "is_present_in_meeting_ids", meeting);
            }
            participants.push(Participant {
                user: *user,
                meeting_user,
                role,
                present,
                delegated_to: None,
            });
        }

        let user_ids: Vec<u64> = users.iter().map(|user| user.id).collect();
        self.store.set(meeting, "user_ids", user_ids);
        self.delegate_votes(&mut participants);
        participants
    }

    /// Lets about one in five absent delegates delegate the vote to a present delegate.
    fn delegate_votes(&mut self, participants: &mut [Participant]) {
        let present: Vec<usize> = (0..participants.len())
            .filter(|&i| participants[i].role == Role::Delegate && participants[i].present)
            .collect();
        for index in 0..participants.len() {
            let participant = &participants[index];
            if participant.role != Role::Delegate || participant.present || !self.rng.gen_bool(0.2)
            {
                continue;
            }
            let Some(&target) = present.choose(self.rng) else {
                return;
            };
            self.store.link(
                participant.meeting_user,
                "vote_delegated_to_id",
                participants[target].meeting_user,
            );
            participants[index].delegated_to = Some(target);
        }
    }

    fn create_structure_levels(&mut self) -> Vec<Fqid> {
        [
            ("Region North", "#2196f3"),
            ("Region South", "#f06400"),
            ("Region East", "#46962c"),
        ]
        .into_iter()
        .map(|(name, color)| {
            let level = self.store.create(Collection::StructureLevel);
            self.store.set(level, "name", name);
            self.store.set(level, "color", color);
            self.store.set(level, "default_time", 600);
            self.store.link(level, "meeting_id", self.meeting);
            level
        })
        .collect()
    }

    /// Puts content on the projectors. The main projector shows the current item, the
    /// projector message and the speaking time countdown, with the next item and the started
    /// poll as preview and the previous item as history. The side projector shows the current
    /// list of speakers, and any further projector the agenda.
    fn create_projections(
        &mut self,
        projectors: &Projectors,
        current: Option<Fqid>,
        next: Option<Fqid>,
        previous: Option<Fqid>,
        started_poll: Option<Fqid>,
    ) {
        let meeting = self.meeting;
        let main = projectors.all[0];
        let side = projectors.all.get(1).copied().unwrap_or(main);

        if let Some(current) = current {
            self.project(main, "current_projector_id", current, None, false);
        }
        self.project(main, "current_projector_id", projectors.message, None, true);
        self.project(
            main,
            "current_projector_id",
            projectors.speaking_time,
            None,
            true,
        );
        if let Some(next) = next {
            self.project(main, "preview_projector_id", next, None, false);
        }
        if let Some(poll) = started_poll {
            self.project(main, "preview_projector_id", poll, None, false);
        }
        if let Some(previous) = previous {
            self.project(main, "history_projector_id", previous, None, false);
        }
        self.project(
            side,
            "current_projector_id",
            meeting,
            Some("current_los"),
            true,
        );
        for projector in projectors.all.iter().skip(2) {
            self.project(
                *projector,
                "current_projector_id",
                meeting,
                Some("agenda_item_list"),
                false,
            );
        }
    }

    /// Returns the next `sequential_number` of `collection` in this meeting, starting at 1.
    pub fn next_sequential_number(&mut self, collection: Collection) -> u64 {
        let number = self.sequential_numbers.entry(collection).or_insert(0);
        *number += 1;
        *number
    }

    /// Creates one projection of `content` on `projector` in the role that `field` names.
    fn project(
        &mut self,
        projector: Fqid,
        field: &str,
        content: Fqid,
        kind: Option<&str>,
        stable: bool,
    ) {
        let projection = self.store.create(Collection::Projection);
        self.store.set(projection, "stable", stable);
        self.store.set(projection, "weight", projection.id);
        if let Some(kind) = kind {
            self.store.set(projection, "type", kind);
        }
        self.store.link(projection, field, projector);
        self.store.link(projection, "content_object_id", content);
        self.store.link(projection, "meeting_id", self.meeting);
    }
}
