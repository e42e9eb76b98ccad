//! Deterministic generator of OpenSlides data in the JSON export format of OpenSlides'
//! example data, and `check_export`, which checks such data against models.yml.

mod agenda;
mod check;
mod meeting;
mod motions;
mod store;
mod text;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::models::{Collection, Fqid};
use store::Store;

pub use check::check_export;

/// The migration index that generated exports carry, the same as OpenSlides' example data.
pub const MIGRATION_INDEX: u64 = 67;

/// The top-level key of an export that contains the migration index instead of a collection.
pub const MIGRATION_INDEX_KEY: &str = "_migration_index";

/// Sizes and seed of generated data.
///
/// User accounts are shared: every user is a member of every meeting, so each meeting has
/// `users` participants and the export has `users` user objects. All other counts are per
/// meeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Meetings, each in a committee of its own.
    pub meetings: usize,
    /// User accounts including the superadmin "admin" (user 1), which is always created.
    pub users: usize,
    /// Motions per meeting. About every tenth motion is an amendment of an earlier one.
    pub motions: usize,
    /// Seed of the random generator. The same options give the same export.
    ///
    /// NOTE: `StdRng` may produce other numbers after a `rand` upgrade, so exports are only
    /// reproducible with the same `rand` version.
    pub seed: u64,
    /// Agenda items per meeting. Up to a third of them belong to motions, the others to
    /// topics.
    pub agenda_items: usize,
    /// Lists of speakers per meeting that get speakers. Every motion and topic has a list of
    /// speakers, because models.yml requires one, and larger values are capped at their
    /// number.
    pub lists_of_speakers: usize,
    /// Motion polls per meeting, cycling through the states created, started, finished and
    /// published. Without motions there are no polls.
    pub polls: usize,
    /// Projectors per meeting. At least one is created, because a meeting needs a reference
    /// projector.
    pub projectors: usize,
}

impl GenerateOptions {
    /// Returns options for a demo meeting: 20 users, 10 motions and a few items of everything
    /// else.
    pub fn small() -> Self {
        GenerateOptions {
            meetings: 1,
            users: 20,
            motions: 10,
            seed: 1,
            agenda_items: 8,
            lists_of_speakers: 8,
            polls: 4,
            projectors: 2,
        }
    }

    /// Returns options for one large meeting: 2000 users, 1000 motions, 300 agenda items,
    /// 100 lists of speakers with speakers, 50 polls and 3 projectors.
    pub fn large_meeting() -> Self {
        GenerateOptions {
            meetings: 1,
            users: 2000,
            motions: 1000,
            seed: 1,
            agenda_items: 300,
            lists_of_speakers: 100,
            polls: 50,
            projectors: 3,
        }
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self::small()
    }
}

/// Generates an export of the shape `{"<collection>": {"<id>": {"<field>": value}}}` with
/// `"_migration_index"` at the top level.
///
/// The output depends only on `options`, so the same seed gives the same JSON. It passes
/// `check_export`: relations point both ways and required fields are set.
pub fn generate(options: &GenerateOptions) -> Value {
    let mut store = Store::default();
    let mut rng = StdRng::seed_from_u64(options.seed);

    let organization = build_organization(&mut store);
    let users = build_users(&mut store, &mut rng, &organization, options.users.max(1));

    let meetings: Vec<Fqid> = (0..options.meetings)
        .map(|index| {
            meeting::build_meeting(&mut store, &mut rng, options, &organization, &users, index)
        })
        .collect();

    let meeting_ids: Vec<u64> = meetings.iter().map(|meeting| meeting.id).collect();
    for user in &users {
        store.set(*user, "meeting_ids", meeting_ids.clone());
    }

    store.into_export(MIGRATION_INDEX)
}

/// The organization and the objects that meetings link to.
struct Organization {
    id: Fqid,
    tag: Fqid,
    genders: Vec<Fqid>,
}

/// Themes as (name, primary_500, accent_500, warn_500). The first is the active theme.
const THEMES: &[(&str, &str, &str, &str)] = &[
    ("OpenSlides Blue", "#317796", "#2196f3", "#f06400"),
    ("OpenSlides Red", "#c31c1c", "#0a7d7d", "#ff9800"),
    ("OpenSlides Green", "#46962c", "#55c3b6", "#e359ce"),
];

const GENDERS: &[&str] = &["female", "male", "diverse", "non-binary"];

fn build_organization(store: &mut Store) -> Organization {
    let organization = store.create(Collection::Organization);
    store.set(organization, "name", "Generated Organization");
    store.set(
        organization,
        "description",
        "<p>Generated data for tests and benchmarks.</p>",
    );
    store.set(organization, "default_language", "en");
    store.set(organization, "enable_anonymous", false);
    store.set(organization, "enable_electronic_voting", true);
    store.set(organization, "enable_chat", true);
    store.set(organization, "limit_of_meetings", 0);
    store.set(organization, "limit_of_users", 0);
    store.set(organization, "require_duplicate_from", false);
    store.set(organization, "reset_password_verbose_errors", false);
    store.set(organization, "saml_enabled", false);
    store.set(organization, "login_text", "Welcome to OpenSlides.");
    store.set(organization, "url", "https://example.com");
    store.set(organization, "users_email_sender", "OpenSlides");
    store.set(
        organization,
        "users_email_subject",
        "OpenSlides access data",
    );

    for (index, (name, primary, accent, warn)) in THEMES.iter().enumerate() {
        let theme = store.create(Collection::Theme);
        store.set(theme, "name", *name);
        store.set(theme, "primary_500", *primary);
        store.set(theme, "accent_500", *accent);
        store.set(theme, "warn_500", *warn);
        store.link(theme, "organization_id", organization);
        if index == 0 {
            store.link(organization, "theme_id", theme);
        }
    }

    let genders = GENDERS
        .iter()
        .map(|name| {
            let gender = store.create(Collection::Gender);
            store.set(gender, "name", *name);
            store.link(gender, "organization_id", organization);
            gender
        })
        .collect();

    let tag = store.create(Collection::OrganizationTag);
    store.set(tag, "name", "Annual assembly");
    store.set(tag, "color", "#2196f3");
    store.link(tag, "organization_id", organization);

    Organization {
        id: organization,
        tag,
        genders,
    }
}

/// Creates `count` users. User 1 is the superadmin "admin", the others get random names.
fn build_users(
    store: &mut Store,
    rng: &mut StdRng,
    organization: &Organization,
    count: usize,
) -> Vec<Fqid> {
    let mut users = Vec::with_capacity(count);
    for index in 0..count {
        let user = store.create(Collection::User);
        if index == 0 {
            store.set(user, "username", "admin");
            store.set(user, "last_name", "Administrator");
            store.set(user, "organization_management_level", "superadmin");
        } else {
            let first = text::FIRST_NAMES.choose(rng).copied().unwrap_or("Anna");
            let last = text::LAST_NAMES.choose(rng).copied().unwrap_or("Adler");
            let username = format!("{first}.{last}{}", user.id).to_lowercase();
            store.set(user, "email", format!("{username}@example.com"));
            store.set(user, "username", username);
            store.set(user, "first_name", first);
            store.set(user, "last_name", last);
        }
        store.set(user, "is_active", true);
        store.set(user, "is_physical_person", true);
        store.set(user, "can_change_own_password", true);
        store.set(user, "default_vote_weight", "1.000000");
        if rng.gen_bool(0.9) {
            if let Some(gender) = organization.genders.choose(rng) {
                store.link(user, "gender_id", *gender);
            }
        }
        store.link(user, "organization_id", organization.id);
        users.push(user);
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn assert_consistent(data: &Value) {
        let problems = check_export(data);
        assert!(
            problems.is_empty(),
            "{} problems, the first ones: {:#?}",
            problems.len(),
            &problems[..problems.len().min(20)]
        );
    }

    fn count(data: &Value, collection: &str) -> usize {
        data[collection]
            .as_object()
            .map_or(0, |objects| objects.len())
    }

    fn objects<'a>(data: &'a Value, collection: &str) -> impl Iterator<Item = &'a Value> {
        data[collection]
            .as_object()
            .into_iter()
            .flat_map(|objects| objects.values())
    }

    #[test]
    fn generate_is_deterministic() {
        let options = GenerateOptions::small();
        assert_eq!(generate(&options), generate(&options));
    }

    #[test]
    fn generate_depends_on_seed() {
        let other = GenerateOptions {
            seed: 2,
            ..GenerateOptions::small()
        };
        assert_ne!(generate(&GenerateOptions::small()), generate(&other));
    }

    #[test]
    fn small_export_passes_check() {
        assert_consistent(&generate(&GenerateOptions::small()));
    }

    #[test]
    fn large_meeting_passes_check() {
        let started = Instant::now();
        let data = generate(&GenerateOptions::large_meeting());
        let generated = started.elapsed();
        assert_consistent(&data);
        println!(
            "large_meeting: generated in {generated:?}, checked in {:?}",
            started.elapsed() - generated
        );

        assert_eq!(count(&data, "user"), 2000);
        assert_eq!(count(&data, "meeting_user"), 2000);
        assert_eq!(count(&data, "motion"), 1000);
        assert_eq!(count(&data, "agenda_item"), 300);
        assert_eq!(count(&data, "poll"), 50);
        assert_eq!(count(&data, "projector"), 3);
    }

    #[test]
    fn several_meetings_pass_check() {
        let options = GenerateOptions {
            meetings: 3,
            users: 30,
            motions: 15,
            seed: 7,
            agenda_items: 9,
            lists_of_speakers: 5,
            polls: 6,
            projectors: 1,
        };
        let data = generate(&options);
        assert_consistent(&data);
        assert_eq!(count(&data, "meeting"), 3);
        assert_eq!(count(&data, "committee"), 3);
        assert_eq!(count(&data, "meeting_user"), 90);
        assert_eq!(
            data["user"]["5"]["meeting_ids"],
            serde_json::json!([1, 2, 3])
        );
    }

    #[test]
    fn empty_options_pass_check() {
        let options = GenerateOptions {
            meetings: 1,
            users: 0,
            motions: 0,
            seed: 3,
            agenda_items: 0,
            lists_of_speakers: 0,
            polls: 5,
            projectors: 0,
        };
        let data = generate(&options);
        assert_consistent(&data);
        assert_eq!(count(&data, "user"), 1);
        assert_eq!(count(&data, "projector"), 1);
        assert_eq!(count(&data, "poll"), 0);
    }

    #[test]
    fn small_export_has_demo_content() {
        let data = generate(&GenerateOptions::small());
        assert_eq!(data["_migration_index"], 67);
        assert_eq!(data["user"]["1"]["username"], "admin");
        assert_eq!(
            data["user"]["1"]["organization_management_level"],
            "superadmin"
        );
        assert_eq!(count(&data, "motion"), 10);
        assert_eq!(count(&data, "agenda_item"), 8);

        let meeting = &data["meeting"]["1"];
        let admin_group = meeting["admin_group_id"].as_u64().unwrap().to_string();
        assert_eq!(data["group"][&admin_group]["name"], "Admin");
        let group_names: Vec<&str> = objects(&data, "group")
            .filter_map(|group| group["name"].as_str())
            .collect();
        assert_eq!(group_names, ["Default", "Admin", "Delegates", "Staff"]);

        let poll_states: Vec<&str> = objects(&data, "poll")
            .filter_map(|poll| poll["state"].as_str())
            .collect();
        for state in ["created", "started", "finished", "published"] {
            assert!(poll_states.contains(&state), "no {state} poll");
        }
        assert!(count(&data, "vote") > 0);

        let current_speakers = objects(&data, "speaker")
            .filter(|speaker| speaker.get("begin_time").is_some())
            .filter(|speaker| speaker.get("end_time").is_none())
            .count();
        assert_eq!(current_speakers, 1);
        let finished_speakers = objects(&data, "speaker")
            .filter(|speaker| speaker.get("end_time").is_some())
            .count();
        assert!(finished_speakers > 0);
        let waiting_speakers = objects(&data, "speaker")
            .filter(|speaker| speaker.get("begin_time").is_none())
            .count();
        assert!(waiting_speakers > 0);

        let restricted_states = objects(&data, "motion_state")
            .filter(|state| {
                state["restrictions"]
                    .as_array()
                    .is_some_and(|list| !list.is_empty())
            })
            .count();
        assert!(restricted_states > 0);

        assert!(count(&data, "motion_submitter") >= 10);
        assert!(count(&data, "projection") > 0);
        assert_eq!(count(&data, "projector_countdown"), 2);
        assert_eq!(count(&data, "projector_message"), 1);
    }

    #[test]
    fn example_data_passes_check() {
        let Some(path) = std::env::var_os("OPENSLIDES_EXAMPLE_DATA") else {
            let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
            assert!(
                !in_ci,
                "OPENSLIDES_EXAMPLE_DATA is not set; set it to the path of OpenSlides' \
                 example-data.json"
            );
            println!("skipped: set OPENSLIDES_EXAMPLE_DATA to the path of example-data.json");
            return;
        };
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("failed to read {}: {err}", path.to_string_lossy()));
        let data: Value = serde_json::from_str(&text).expect("example data is valid JSON");
        assert_consistent(&data);
    }
}
