//! The `enum` lists of models.yml, which the generated field metadata does not carry.
//!
//! Copied from OpenSlides' models.yml. A test checks that every field named here
//! exists, but not that the values are still current.

const LANGUAGES: &[&str] = &["en", "de", "it", "es", "ru", "cs", "fr"];
const BALLOT_PAPER_SELECTIONS: &[&str] = &[
    "NUMBER_OF_DELEGATES",
    "NUMBER_OF_ALL_PARTICIPANTS",
    "CUSTOM_NUMBER",
];
const POLL_BACKENDS: &[&str] = &["long", "fast"];
const ONEHUNDRED_PERCENT_BASES: &[&str] = &[
    "Y",
    "YN",
    "YNA",
    "N",
    "valid",
    "cast",
    "entitled",
    "entitled_present",
    "disabled",
];

/// Each field with an `enum` in models.yml and its allowed values. For `string[]` fields the
/// list applies to every item. Numbers are written as their JSON text.
pub(super) const ENUMS: &[(&str, &str, &[&str])] = &[
    ("organization", "default_language", LANGUAGES),
    (
        "user",
        "organization_management_level",
        &["superadmin", "can_manage_organization", "can_manage_users"],
    ),
    ("meeting", "language", LANGUAGES),
    (
        "meeting",
        "applause_type",
        &["applause-type-bar", "applause-type-particles"],
    ),
    ("meeting", "export_csv_encoding", &["utf-8", "iso-8859-15"]),
    (
        "meeting",
        "export_pdf_pagenumber_alignment",
        &["left", "right", "center"],
    ),
    ("meeting", "export_pdf_fontsize", &["10", "11", "12"]),
    ("meeting", "export_pdf_pagesize", &["A4", "A5"]),
    ("meeting", "agenda_numeral_system", &["arabic", "roman"]),
    (
        "meeting",
        "agenda_item_creation",
        &["always", "never", "default_yes", "default_no"],
    ),
    (
        "meeting",
        "agenda_new_items_default_visibility",
        &["common", "internal", "hidden"],
    ),
    (
        "meeting",
        "motions_default_line_numbering",
        &["outside", "inline", "none"],
    ),
    (
        "meeting",
        "motions_recommendation_text_mode",
        &["original", "changed", "diff", "agreed"],
    ),
    ("meeting", "motions_default_sorting", &["number", "weight"]),
    (
        "meeting",
        "motions_number_type",
        &["per_category", "serially_numbered", "manually"],
    ),
    (
        "meeting",
        "motions_amendments_text_mode",
        &["freestyle", "fulltext", "paragraph"],
    ),
    (
        "meeting",
        "motion_poll_ballot_paper_selection",
        BALLOT_PAPER_SELECTIONS,
    ),
    (
        "meeting",
        "motion_poll_default_onehundred_percent_base",
        ONEHUNDRED_PERCENT_BASES,
    ),
    ("meeting", "motion_poll_default_backend", POLL_BACKENDS),
    (
        "meeting",
        "motion_poll_projection_name_order_first",
        &["first_name", "last_name"],
    ),
    (
        "meeting",
        "users_pdf_wlan_encryption",
        &["", "WEP", "WPA", "nopass"],
    ),
    (
        "meeting",
        "assignment_poll_ballot_paper_selection",
        BALLOT_PAPER_SELECTIONS,
    ),
    (
        "meeting",
        "assignment_poll_default_onehundred_percent_base",
        ONEHUNDRED_PERCENT_BASES,
    ),
    ("meeting", "assignment_poll_default_backend", POLL_BACKENDS),
    (
        "meeting",
        "poll_ballot_paper_selection",
        BALLOT_PAPER_SELECTIONS,
    ),
    (
        "meeting",
        "poll_default_onehundred_percent_base",
        ONEHUNDRED_PERCENT_BASES,
    ),
    ("meeting", "poll_default_backend", POLL_BACKENDS),
    (
        "group",
        "permissions",
        &[
            "agenda_item.can_manage",
            "agenda_item.can_see",
            "agenda_item.can_see_internal",
            "assignment.can_manage",
            "assignment.can_nominate_other",
            "assignment.can_nominate_self",
            "assignment.can_see",
            "chat.can_manage",
            "list_of_speakers.can_be_speaker",
            "list_of_speakers.can_manage",
            "list_of_speakers.can_see",
            "list_of_speakers.can_manage_moderator_notes",
            "list_of_speakers.can_see_moderator_notes",
            "mediafile.can_manage",
            "mediafile.can_see",
            "meeting.can_manage_logos_and_fonts",
            "meeting.can_manage_settings",
            "meeting.can_see_autopilot",
            "meeting.can_see_frontpage",
            "meeting.can_see_history",
            "meeting.can_see_livestream",
            "motion.can_create",
            "motion.can_create_amendments",
            "motion.can_forward",
            "motion.can_manage",
            "motion.can_manage_metadata",
            "motion.can_manage_polls",
            "motion.can_see",
            "motion.can_see_internal",
            "motion.can_see_origin",
            "motion.can_support",
            "poll.can_manage",
            "poll.can_see_progress",
            "projector.can_manage",
            "projector.can_see",
            "tag.can_manage",
            "user.can_manage",
            "user.can_manage_presence",
            "user.can_see_sensitive_data",
            "user.can_see",
            "user.can_update",
            "user.can_edit_own_delegation",
        ],
    ),
    ("agenda_item", "type", &["common", "internal", "hidden"]),
    (
        "speaker",
        "speech_state",
        &[
            "contribution",
            "pro",
            "contra",
            "intervention",
            "interposed_question",
        ],
    ),
    (
        "motion_change_recommendation",
        "type",
        &["replacement", "insertion", "deletion", "other"],
    ),
    (
        "motion_state",
        "css_class",
        &["grey", "red", "green", "lightblue", "yellow"],
    ),
    (
        "motion_state",
        "restrictions",
        &[
            "motion.can_see_internal",
            "motion.can_manage_metadata",
            "motion.can_manage",
            "is_submitter",
        ],
    ),
    (
        "motion_state",
        "merge_amendment_into_final",
        &["do_not_merge", "undefined", "do_merge"],
    ),
    (
        "poll",
        "type",
        &["analog", "named", "pseudoanonymous", "cryptographic"],
    ),
    ("poll", "backend", POLL_BACKENDS),
    ("poll", "pollmethod", &["Y", "YN", "YNA", "N"]),
    (
        "poll",
        "state",
        &["created", "started", "finished", "published"],
    ),
    ("poll", "onehundred_percent_base", ONEHUNDRED_PERCENT_BASES),
    ("assignment", "phase", &["search", "voting", "finished"]),
    ("action_worker", "state", &["running", "end", "aborted"]),
    (
        "import_preview",
        "name",
        &["account", "participant", "topic", "committee", "motion"],
    ),
    ("import_preview", "state", &["warning", "error", "done"]),
];

/// Looks up the allowed values of `collection/field`, if models.yml restricts them.
pub(super) fn allowed_values(collection: &str, field: &str) -> Option<&'static [&'static str]> {
    ENUMS
        .iter()
        .find(|(c, f, _)| *c == collection && *f == field)
        .map(|(_, _, values)| *values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::FieldId;

    #[test]
    fn enum_fields_exist_in_models() {
        for (collection, field, values) in ENUMS {
            assert!(
                FieldId::from_names(collection, field).is_some(),
                "{collection}/{field} is not in models.yml"
            );
            assert!(!values.is_empty(), "{collection}/{field} has no values");
        }
    }

    #[test]
    fn enum_lookup_finds_poll_state() {
        let states = allowed_values("poll", "state").unwrap();
        assert!(states.contains(&"published"));
        assert!(allowed_values("poll", "title").is_none());
    }
}
