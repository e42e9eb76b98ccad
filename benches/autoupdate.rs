//! The OpenSlides client's main views on the generator's large meeting (1,000 motions,
//! 2,000 participants), held in memory on a warm cache.
//!
//! Each request in `requests/` is measured in four steps, named `VIEW/STEP` or
//! `VIEW/STEP/USER`:
//!
//! - `parse`: `Request::parse` of the body.
//! - `expand`: a new view with every value visible (`AllVisible`), as for a first message.
//! - `restrict/USER`: a new view with the restriction rules (`RuleRestricter`).
//! - `diff/USER`: one change applied to a resolved, restricted view (see `Change`), and
//!   `diff/all_visible` the same without restriction.
//!
//! USER is `delegate` (a member of the "Delegates" group), `admin` (a member of the
//! meeting's admin group, where the bench moves a member of the "Staff" group) or
//! `superadmin` (user 1).
//!
//! Run with `cargo bench --bench autoupdate`; `cargo bench --bench autoupdate -- agenda/`
//! runs one view.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use openslides_autoupdate::autoupdate::{Reader, ViewState};
use openslides_autoupdate::datastore::{Datastore, MemorySource, Value};
use openslides_autoupdate::generate::{generate, GenerateOptions};
use openslides_autoupdate::keysbuilder::Request;
use openslides_autoupdate::models::{Id, Key};
use openslides_autoupdate::projector::{self, Projector};
use openslides_autoupdate::restrict::{AllVisible, Restricter, RuleRestricter, Viewer};
use serde_json::json;
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::runtime::Runtime;

/// The change that a view's `diff` step applies, one per view.
#[derive(Clone, Copy)]
enum Change {
    /// A participant's last name changes.
    UserName,
    /// A motion's title changes.
    MotionTitle,
    /// A speaker joins the open list of speakers with the most speakers, or leaves it
    /// again, in turns.
    Speaker,
    /// The main projector's current projection shows the next agenda item's object, or
    /// the current one again, in turns. The step ends when the view has the new content.
    Projection,
}

const VIEWS: [(&str, &str, Change); 4] = [
    (
        "meeting_detail",
        include_str!("requests/meeting_detail.json"),
        Change::UserName,
    ),
    (
        "motion_list",
        include_str!("requests/motion_list.json"),
        Change::MotionTitle,
    ),
    (
        "agenda",
        include_str!("requests/agenda.json"),
        Change::Speaker,
    ),
    (
        "projector",
        include_str!("requests/projector.json"),
        Change::Projection,
    ),
];

fn viewer(user_id: u64) -> Viewer {
    Viewer { user_id }
}

/// The generated meeting in memory, with the parts that a change passes through.
struct Meeting {
    runtime: Runtime,
    export: serde_json::Value,
    source: MemorySource,
    datastore: Arc<Datastore>,
    projector: Projector,
    /// Contents that the projector computed in the background.
    published: mpsc::Receiver<Vec<(Key, Value)>>,
}

impl Meeting {
    fn new() -> Meeting {
        let runtime = Runtime::new().unwrap();
        let mut export = generate(&GenerateOptions::large_meeting());
        add_meeting_admin(&mut export);
        let source = MemorySource::from_export(&export);
        let datastore = Arc::new(Datastore::new(Arc::new(source.clone())));
        let (sender, published) = mpsc::channel();
        let projector = Projector::new(
            datastore.clone(),
            Box::new(move |changes| {
                let _ = sender.send(changes);
            }),
        );
        Meeting {
            runtime,
            export,
            source,
            datastore,
            projector,
            published,
        }
    }

    fn reader<'a>(&'a self, restricter: &'a dyn Restricter) -> Reader<'a> {
        Reader {
            datastore: &self.datastore,
            restricter,
            projector: Some(&self.projector),
            votes: None,
        }
    }

    /// Resolves a new view.
    fn resolve(&self, request: &Arc<Request>, user_id: u64, reader: &Reader<'_>) -> ViewState {
        let mut view = ViewState::new(request.clone(), viewer(user_id));
        self.runtime
            .block_on(view.resolve(reader, &mut |_| {}))
            .unwrap();
        view
    }

    /// Writes changes the way a message from the message bus reaches the service, and
    /// applies them to `view`.
    fn apply(&self, view: &mut ViewState, reader: &Reader<'_>, changes: &[(Key, Value)]) {
        self.source.apply(changes);
        self.datastore.update(changes);
        // The projector computes changed contents in tasks of the runtime.
        let _runtime = self.runtime.enter();
        self.projector.invalidate(changes);
        let keys: Vec<Key> = changes.iter().map(|(key, _)| *key).collect();
        self.runtime
            .block_on(view.update(&keys, reader, &mut |_| {}))
            .unwrap();
    }

    /// Waits until the projector publishes the content of `projection`, and applies it.
    fn apply_content(&self, view: &mut ViewState, reader: &Reader<'_>, projection: Id) {
        let key = projector::content_key(projection);
        loop {
            let changes = self
                .published
                .recv_timeout(Duration::from_secs(10))
                .expect("the projector publishes the new content");
            if changes.iter().any(|(changed, _)| *changed == key) {
                break;
            }
        }
        self.runtime
            .block_on(view.update(&[key], reader, &mut |_| {}))
            .unwrap();
    }

    fn object(&self, collection: &str, id: Id) -> &serde_json::Value {
        &self.export[collection][id.to_string()]
    }

    fn ids(&self, collection: &str, id: Id, field: &str) -> Vec<Id> {
        self.object(collection, id)[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_u64)
            .collect()
    }

    /// Returns the user of the first member of the group with this name who is not
    /// a superadmin.
    fn member_of(&self, group_name: &str) -> u64 {
        let (group, _) = self.export["group"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, group)| group["name"] == group_name)
            .expect("the generated meeting has this group");
        self.ids("group", group.parse().unwrap(), "meeting_user_ids")
            .into_iter()
            .map(|meeting_user| {
                self.object("meeting_user", meeting_user)["user_id"]
                    .as_u64()
                    .unwrap()
            })
            .find(|user| self.object("user", *user)["organization_management_level"].is_null())
            .expect("the group has a member without organization rights")
    }
}

/// Moves the first member of the "Staff" group to the admin group, which has only the
/// superadmin in the generated meeting.
fn add_meeting_admin(export: &mut serde_json::Value) {
    let group = |name: &str| -> u64 {
        let groups = export["group"].as_object().unwrap();
        let (id, _) = groups
            .iter()
            .find(|(_, group)| group["name"] == name)
            .unwrap();
        id.parse().unwrap()
    };
    let (staff, admin) = (group("Staff"), group("Admin"));
    let members = &mut export["group"][staff.to_string()]["meeting_user_ids"];
    let meeting_user = members[0].clone();
    members.as_array_mut().unwrap().remove(0);
    export["group"][admin.to_string()]["meeting_user_ids"]
        .as_array_mut()
        .unwrap()
        .push(meeting_user.clone());
    export["meeting_user"][meeting_user.to_string()]["group_ids"] = json!([admin]);
}

fn key(text: &str) -> Key {
    Key::parse(text).unwrap()
}

fn value(json: serde_json::Value) -> Value {
    Some(Bytes::from(json.to_string()))
}

/// Returns the changes of the iterations of a `diff` step, applied in turns, and the
/// projection whose content the step waits for. The last turn restores the generated
/// data.
fn changes(meeting: &Meeting, change: Change) -> (Vec<Vec<(Key, Value)>>, Option<Id>) {
    match change {
        Change::UserName => {
            let meeting_users = meeting.ids("meeting", 1, "meeting_user_ids");
            let meeting_user = meeting_users[meeting_users.len() / 2];
            let user = meeting.object("meeting_user", meeting_user)["user_id"]
                .as_u64()
                .unwrap();
            let name = key(&format!("user/{user}/last_name"));
            let original = meeting.object("user", user)["last_name"].clone();
            let turns = [json!("Changed"), original]
                .map(|last_name| vec![(name, value(last_name))])
                .to_vec();
            (turns, None)
        }
        Change::MotionTitle => {
            let motion = meeting.ids("meeting", 1, "motion_ids")[0];
            let title = key(&format!("motion/{motion}/title"));
            let original = meeting.object("motion", motion)["title"].clone();
            let turns = [json!("Changed title"), original]
                .map(|text| vec![(title, value(text))])
                .to_vec();
            (turns, None)
        }
        Change::Speaker => {
            let list = meeting
                .ids("meeting", 1, "list_of_speakers_ids")
                .into_iter()
                .filter(|list| meeting.object("list_of_speakers", *list)["closed"] != true)
                .max_by_key(|list| meeting.ids("list_of_speakers", *list, "speaker_ids").len())
                .unwrap();
            let meeting_user = meeting.ids("meeting", 1, "meeting_user_ids")[1];
            let speaker = meeting
                .ids("meeting", 1, "speaker_ids")
                .into_iter()
                .max()
                .unwrap()
                + 1;
            let speaker_ids = |collection: &str, id: Id| {
                let ids = meeting.ids(collection, id, "speaker_ids");
                let with: Vec<Id> = ids.iter().copied().chain([speaker]).collect();
                let key = key(&format!("{collection}/{id}/speaker_ids"));
                (key, value(json!(ids)), value(json!(with)))
            };
            let lists = [
                speaker_ids("list_of_speakers", list),
                speaker_ids("meeting_user", meeting_user),
                speaker_ids("meeting", 1),
            ];
            let fields = [
                ("id", json!(speaker)),
                ("weight", json!(1000)),
                ("list_of_speakers_id", json!(list)),
                ("meeting_user_id", json!(meeting_user)),
                ("meeting_id", json!(1)),
            ];
            let mut join = Vec::new();
            let mut leave = Vec::new();
            for (field, field_value) in fields {
                let key = key(&format!("speaker/{speaker}/{field}"));
                join.push((key, value(field_value)));
                leave.push((key, None));
            }
            for (key, without, with) in lists {
                join.push((key, with));
                leave.push((key, without));
            }
            (vec![join, leave], None)
        }
        Change::Projection => {
            let projections = meeting.ids("projector", 1, "current_projection_ids");
            let preview = meeting.ids("projector", 1, "preview_projection_ids");
            let content = |projection: Id| {
                meeting.object("projection", projection)["content_object_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            // The current item is the projection that is not stable; the preview shows
            // the next one.
            let current = *projections
                .iter()
                .find(|projection| meeting.object("projection", **projection)["stable"] != true)
                .unwrap();
            let next = content(preview[0]);
            let field = key(&format!("projection/{current}/content_object_id"));
            let turns = [next, content(current)]
                .map(|fqid| vec![(field, value(json!(fqid)))])
                .to_vec();
            (turns, Some(current))
        }
    }
}

fn benchmarks(c: &mut Criterion) {
    let meeting = Meeting::new();
    let users = [
        ("delegate", meeting.member_of("Delegates")),
        ("admin", meeting.member_of("Admin")),
        ("superadmin", 1),
    ];
    let all_visible = AllVisible;
    let rules = RuleRestricter::new(meeting.datastore.clone());

    for (name, body, change) in VIEWS {
        let mut group = c.benchmark_group(name);
        group.bench_function("parse", |b| {
            b.iter(|| Request::parse(body.as_bytes(), "").unwrap())
        });

        let request = Arc::new(Request::parse(body.as_bytes(), "").unwrap());
        let unrestricted = meeting.reader(&all_visible);
        let keys = meeting.resolve(&request, 1, &unrestricted).len();
        eprintln!("{name}: {keys} keys with every value visible");
        group.bench_function("expand", |b| {
            b.iter(|| meeting.resolve(&request, 1, &unrestricted))
        });

        let restricted = meeting.reader(&rules);
        for (user, user_id) in users {
            let reader = &restricted;
            let keys = meeting.resolve(&request, user_id, reader).len();
            eprintln!("{name}: {keys} keys for the {user} (user {user_id})");
            group.bench_function(format!("restrict/{user}"), |b| {
                b.iter(|| meeting.resolve(&request, user_id, reader))
            });
        }

        let (turns, projection) = changes(&meeting, change);
        // Contents published so far belong to earlier steps.
        while meeting.published.try_recv().is_ok() {}
        let diffs = [("all_visible", 1, &unrestricted)]
            .into_iter()
            .chain(users.map(|(user, user_id)| (user, user_id, &restricted)));
        for (user, user_id, reader) in diffs {
            let mut view = meeting.resolve(&request, user_id, reader);
            let mut turn = 0;
            group.bench_function(format!("diff/{user}"), |b| {
                b.iter(|| {
                    meeting.apply(&mut view, reader, &turns[turn % turns.len()]);
                    if let Some(projection) = projection {
                        meeting.apply_content(&mut view, reader, projection);
                    }
                    turn += 1;
                })
            });
            // Restore the generated data for the steps that follow.
            if turn % turns.len() != 0 {
                meeting.apply(&mut view, reader, &turns[turns.len() - 1]);
                if let Some(projection) = projection {
                    meeting.apply_content(&mut view, reader, projection);
                }
            }
        }
        group.finish();
    }
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
