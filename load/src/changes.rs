//! The changes the tool writes: realistic edits of a meeting, built from the current
//! models and applied to them, so that each repeat changes a value again.

use anyhow::{anyhow, bail};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The permission that the group permission change adds and removes. It makes motions in
/// states with restrictions visible to the group.
pub const TOGGLED_PERMISSION: &str = "motion.can_see_internal";

/// The current models: fqid (`collection/id`) to the object's fields.
pub type Models = BTreeMap<String, Map<String, Value>>;

/// One field to write; `Value::Null` deletes the field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Write {
    pub fqid: String,
    pub field: String,
    pub value: Value,
}

impl Write {
    fn new(fqid: &str, field: &str, value: Value) -> Write {
        Write {
            fqid: fqid.to_string(),
            field: field.to_string(),
            value,
        }
    }

    /// Returns the key as the message bus and the streams name it.
    pub fn key(&self) -> String {
        format!("{}/{}", self.fqid, self.field)
    }
}

/// The kinds of changes, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    MotionTitle,
    SpeakerStarted,
    PollStarted,
    MotionState,
    UserGroup,
    Unrelated,
    GroupPermission,
    SpeakersReset,
    PollsReset,
}

impl Kind {
    /// The kinds of the measurement run, in order.
    pub const ALL: [Kind; 6] = [
        Kind::MotionTitle,
        Kind::SpeakerStarted,
        Kind::PollStarted,
        Kind::MotionState,
        Kind::UserGroup,
        Kind::Unrelated,
    ];

    /// The kinds the soak run writes in turn. Speakers and polls fall back to their
    /// reset once none is left to start (see `build_repeating`).
    pub const SOAK: [Kind; 7] = [
        Kind::MotionTitle,
        Kind::SpeakerStarted,
        Kind::PollStarted,
        Kind::MotionState,
        Kind::UserGroup,
        Kind::GroupPermission,
        Kind::Unrelated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::MotionTitle => "motion title",
            Kind::SpeakerStarted => "speaker started",
            Kind::PollStarted => "poll started",
            Kind::MotionState => "motion state (restricted)",
            Kind::UserGroup => "user group",
            Kind::Unrelated => "unrelated field",
            Kind::GroupPermission => "group permission",
            Kind::SpeakersReset => "speakers reset",
            Kind::PollsReset => "polls reset",
        }
    }
}

/// A change: the fields written together, and the key whose arrival is timed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kind: Kind,
    pub description: String,
    /// The key a client watches for this change.
    pub key: String,
    pub writes: Vec<Write>,
}

/// The objects the changes are made on, chosen once from the models.
#[derive(Debug, Clone)]
pub struct Targets {
    pub meeting: String,
    /// A motion whose title changes.
    pub motion: String,
    /// A motion that moves between a state without and one with restrictions.
    pub state_motion: String,
    pub open_state: String,
    pub restricted_state: String,
    /// The meeting user that joins and leaves `group`.
    pub meeting_user: String,
    pub group: String,
    /// A group of `meeting_user` whose permissions gain and lose `TOGGLED_PERMISSION`;
    /// `None` when the admin group is the only group of `meeting_user`.
    pub permission_group: Option<String>,
    /// An object no request of the tool contains.
    pub unrelated: String,
}

fn fqid(collection: &str, id: &Value) -> Option<String> {
    id.as_u64().map(|id| format!("{collection}/{id}"))
}

fn ids(object: &Map<String, Value>, field: &str) -> Vec<u64> {
    object
        .get(field)
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn id_of(fqid: &str) -> anyhow::Result<u64> {
    fqid.rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| anyhow!("{fqid} has no id"))
}

fn object<'a>(models: &'a Models, fqid: &str) -> anyhow::Result<&'a Map<String, Value>> {
    models
        .get(fqid)
        .ok_or_else(|| anyhow!("{fqid} does not exist"))
}

fn has_restrictions(state: &Map<String, Value>) -> bool {
    state
        .get("restrictions")
        .and_then(Value::as_array)
        .is_some_and(|list| !list.is_empty())
}

/// Returns the meeting users of the named groups of a meeting (names compared without
/// case) as (user id, meeting user fqid), sorted by user id.
pub fn group_members(
    models: &Models,
    meeting: &str,
    groups: &[String],
) -> anyhow::Result<Vec<(u64, String)>> {
    let meeting_object = object(models, meeting)?;
    let mut members = Vec::new();
    let mut found = Vec::new();
    for group_id in ids(meeting_object, "group_ids") {
        let group_fqid = format!("group/{group_id}");
        let group = object(models, &group_fqid)?;
        let name = group
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !groups
            .iter()
            .any(|wanted| wanted.eq_ignore_ascii_case(name))
        {
            continue;
        }
        found.push(name.to_lowercase());
        for member in ids(group, "meeting_user_ids") {
            let member_fqid = format!("meeting_user/{member}");
            let user = object(models, &member_fqid)?
                .get("user_id")
                .and_then(Value::as_u64);
            if let Some(user) = user {
                members.push((user, member_fqid));
            }
        }
    }
    for wanted in groups {
        if !found.contains(&wanted.to_lowercase()) {
            bail!("{meeting} has no group named {wanted:?}");
        }
    }
    members.sort();
    members.dedup();
    Ok(members)
}

impl Targets {
    /// Chooses the objects in the meeting with the smallest id. `member` is the meeting
    /// user that changes groups; it gets a group it is not in, preferring "Staff".
    pub fn choose(models: &Models, member: &str) -> anyhow::Result<Targets> {
        let meeting = models
            .keys()
            .filter(|fqid| fqid.starts_with("meeting/"))
            .min_by_key(|fqid| id_of(fqid).unwrap_or(u64::MAX))
            .ok_or_else(|| anyhow!("there is no meeting"))?
            .clone();
        let meeting_object = object(models, &meeting)?;
        let motions = ids(meeting_object, "motion_ids");
        let motion = format!(
            "motion/{}",
            motions
                .first()
                .ok_or_else(|| anyhow!("{meeting} has no motion"))?
        );

        let mut state_choice = None;
        for id in &motions {
            let candidate = format!("motion/{id}");
            let Some(state) = object(models, &candidate)?
                .get("state_id")
                .and_then(|v| fqid("motion_state", v))
            else {
                continue;
            };
            let state_object = object(models, &state)?;
            if has_restrictions(state_object) {
                continue;
            }
            let Some(workflow) = state_object
                .get("workflow_id")
                .and_then(|v| fqid("motion_workflow", v))
            else {
                continue;
            };
            let restricted = ids(object(models, &workflow)?, "state_ids")
                .into_iter()
                .map(|id| format!("motion_state/{id}"))
                .find(|fqid| models.get(fqid).is_some_and(has_restrictions));
            if let Some(restricted) = restricted {
                state_choice = Some((candidate, state, restricted));
                break;
            }
        }
        let (state_motion, open_state, restricted_state) = state_choice
            .ok_or_else(|| anyhow!("no motion can move to a state with restrictions"))?;

        let member_groups = ids(object(models, member)?, "group_ids");
        let mut groups: Vec<(bool, u64)> = ids(meeting_object, "group_ids")
            .into_iter()
            .filter(|id| !member_groups.contains(id))
            .map(|id| {
                let name = models
                    .get(&format!("group/{id}"))
                    .and_then(|group| group.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (name != "Staff", id)
            })
            .collect();
        groups.sort_unstable();
        let group = format!(
            "group/{}",
            groups
                .first()
                .ok_or_else(|| anyhow!("{member} is in every group"))?
                .1
        );

        let permission_group = member_groups
            .iter()
            .map(|id| format!("group/{id}"))
            .find(|group| {
                models
                    .get(group)
                    .and_then(|g| g.get("name"))
                    .and_then(Value::as_str)
                    != Some("Admin")
            });

        let unrelated = ids(meeting_object, "projector_ids")
            .first()
            .map(|id| format!("projector/{id}"))
            .ok_or_else(|| anyhow!("{meeting} has no projector"))?;

        Ok(Targets {
            meeting,
            motion,
            state_motion,
            open_state,
            restricted_state,
            meeting_user: member.to_string(),
            group,
            permission_group,
            unrelated,
        })
    }
}

fn with_id(list: &[u64], id: u64, present: bool) -> Value {
    let mut list: Vec<u64> = list.iter().copied().filter(|item| *item != id).collect();
    if present {
        list.push(id);
        list.sort_unstable();
    }
    json!(list)
}

/// Builds the `round`th change of a kind (counting from 0). `now` is the Unix time in
/// seconds written into time fields.
pub fn build(
    kind: Kind,
    models: &Models,
    targets: &Targets,
    round: usize,
    now: i64,
) -> anyhow::Result<Change> {
    let change = match kind {
        Kind::MotionTitle => {
            let title = format!("Load test title {}", round + 1);
            Change {
                kind,
                description: format!("{} title = {title:?}", targets.motion),
                key: format!("{}/title", targets.motion),
                writes: vec![
                    Write::new(&targets.motion, "title", json!(title)),
                    Write::new(&targets.motion, "last_modified", json!(now)),
                ],
            }
        }
        Kind::SpeakerStarted => speaker_started(models, &targets.meeting, now)?,
        Kind::PollStarted => {
            let meeting = object(models, &targets.meeting)?;
            let poll = ids(meeting, "poll_ids")
                .into_iter()
                .map(|id| format!("poll/{id}"))
                .find(|poll| {
                    models
                        .get(poll)
                        .and_then(|p| p.get("state"))
                        .and_then(Value::as_str)
                        == Some("created")
                })
                .ok_or_else(|| anyhow!("{} has no poll left in state created", targets.meeting))?;
            Change {
                kind,
                description: format!("{poll} state created -> started"),
                key: format!("{poll}/state"),
                writes: vec![Write::new(&poll, "state", json!("started"))],
            }
        }
        Kind::MotionState => {
            let motion = &targets.state_motion;
            let (from, to) = if round.is_multiple_of(2) {
                (&targets.open_state, &targets.restricted_state)
            } else {
                (&targets.restricted_state, &targets.open_state)
            };
            let motion_id = id_of(motion)?;
            let from_ids = ids(object(models, from)?, "motion_ids");
            let to_ids = ids(object(models, to)?, "motion_ids");
            Change {
                kind,
                description: format!("{motion} state {from} -> {to}"),
                key: format!("{motion}/state_id"),
                writes: vec![
                    Write::new(motion, "state_id", json!(id_of(to)?)),
                    Write::new(motion, "last_modified", json!(now)),
                    Write::new(from, "motion_ids", with_id(&from_ids, motion_id, false)),
                    Write::new(to, "motion_ids", with_id(&to_ids, motion_id, true)),
                ],
            }
        }
        Kind::UserGroup => {
            let member = &targets.meeting_user;
            let group = &targets.group;
            let member_id = id_of(member)?;
            let group_id = id_of(group)?;
            let member_groups = ids(object(models, member)?, "group_ids");
            let group_members = ids(object(models, group)?, "meeting_user_ids");
            let join = !member_groups.contains(&group_id);
            Change {
                kind,
                description: format!("{member} {} {group}", if join { "joins" } else { "leaves" }),
                key: format!("{member}/group_ids"),
                writes: vec![
                    Write::new(member, "group_ids", with_id(&member_groups, group_id, join)),
                    Write::new(
                        group,
                        "meeting_user_ids",
                        with_id(&group_members, member_id, join),
                    ),
                ],
            }
        }
        Kind::GroupPermission => {
            let group = targets
                .permission_group
                .as_ref()
                .ok_or_else(|| anyhow!("{} is in no group besides Admin", targets.meeting_user))?;
            let mut permissions: Vec<String> = object(models, group)?
                .get("permissions")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let grant = !permissions.iter().any(|p| p == TOGGLED_PERMISSION);
            if grant {
                permissions.push(TOGGLED_PERMISSION.to_string());
                permissions.sort();
            } else {
                permissions.retain(|p| p != TOGGLED_PERMISSION);
            }
            Change {
                kind,
                description: format!(
                    "{group} {} {TOGGLED_PERMISSION}",
                    if grant { "gains" } else { "loses" }
                ),
                key: format!("{group}/permissions"),
                writes: vec![Write::new(group, "permissions", json!(permissions))],
            }
        }
        Kind::SpeakersReset => speakers_reset(models, &targets.meeting)?,
        Kind::PollsReset => polls_reset(models, &targets.meeting)?,
        Kind::Unrelated => {
            let name = format!("Load test projector {}", round + 1);
            Change {
                kind,
                description: format!("{} name = {name:?}", targets.unrelated),
                key: format!("{}/name", targets.unrelated),
                writes: vec![Write::new(&targets.unrelated, "name", json!(name))],
            }
        }
    };
    Ok(change)
}

/// Builds the start of a speech. The next waiting speaker of the first list of speakers
/// that has one gets a begin time, and the current speaker of that list an end time.
/// The coupled speaking time countdown starts.
fn speaker_started(models: &Models, meeting: &str, now: i64) -> anyhow::Result<Change> {
    let meeting_object = object(models, meeting)?;
    for list_id in ids(meeting_object, "list_of_speakers_ids") {
        let list = object(models, &format!("list_of_speakers/{list_id}"))?;
        let speakers: Vec<(String, &Map<String, Value>)> = ids(list, "speaker_ids")
            .into_iter()
            .filter_map(|id| {
                let fqid = format!("speaker/{id}");
                models.get(&fqid).map(|speaker| (fqid, speaker))
            })
            .collect();
        let waiting = speakers
            .iter()
            .filter(|(_, s)| s.get("begin_time").is_none_or(Value::is_null))
            .min_by_key(|(_, s)| s.get("weight").and_then(Value::as_i64).unwrap_or(i64::MAX));
        let Some((next, _)) = waiting else {
            continue;
        };
        let mut writes = vec![Write::new(next, "begin_time", json!(now))];
        for (fqid, speaker) in &speakers {
            let speaking = speaker.get("begin_time").is_some_and(|v| !v.is_null())
                && speaker.get("end_time").is_none_or(Value::is_null);
            if speaking {
                writes.push(Write::new(fqid, "end_time", json!(now)));
            }
        }
        let coupled = meeting_object
            .get("list_of_speakers_couple_countdown")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(countdown) = meeting_object
            .get("list_of_speakers_countdown_id")
            .and_then(|v| fqid("projector_countdown", v))
            .filter(|_| coupled)
        {
            let default_time = models
                .get(&countdown)
                .and_then(|c| c.get("default_time"))
                .and_then(Value::as_i64)
                .unwrap_or(60);
            writes.push(Write::new(&countdown, "running", json!(true)));
            writes.push(Write::new(
                &countdown,
                "countdown_time",
                json!((now + default_time) as f64),
            ));
        }
        return Ok(Change {
            kind: Kind::SpeakerStarted,
            description: format!("{next} starts speaking"),
            key: format!("{next}/begin_time"),
            writes,
        });
    }
    bail!("{meeting} has no waiting speaker left")
}

/// Builds a change of a kind that can be written any number of times. A speaker start
/// falls back to a speakers reset once no speaker waits. A poll start falls back to a
/// polls reset once no poll is left in state created.
pub fn build_repeating(
    kind: Kind,
    models: &Models,
    targets: &Targets,
    round: usize,
    now: i64,
) -> anyhow::Result<Change> {
    let fallback = match kind {
        Kind::SpeakerStarted => Kind::SpeakersReset,
        Kind::PollStarted => Kind::PollsReset,
        _ => return build(kind, models, targets, round, now),
    };
    build(kind, models, targets, round, now)
        .or_else(|_| build(fallback, models, targets, round, now))
}

/// Builds the reset of the first list of speakers whose speakers all have spoken: their
/// `begin_time` and `end_time` are deleted, so they wait again.
fn speakers_reset(models: &Models, meeting: &str) -> anyhow::Result<Change> {
    let meeting_object = object(models, meeting)?;
    for list_id in ids(meeting_object, "list_of_speakers_ids") {
        let list = object(models, &format!("list_of_speakers/{list_id}"))?;
        let speakers: Vec<(String, &Map<String, Value>)> = ids(list, "speaker_ids")
            .into_iter()
            .filter_map(|id| {
                let fqid = format!("speaker/{id}");
                models.get(&fqid).map(|speaker| (fqid, speaker))
            })
            .collect();
        let has_spoken =
            |speaker: &Map<String, Value>| speaker.get("begin_time").is_some_and(|v| !v.is_null());
        if speakers.is_empty() || !speakers.iter().all(|(_, s)| has_spoken(s)) {
            continue;
        }
        let mut writes = Vec::new();
        for (fqid, speaker) in &speakers {
            for field in ["begin_time", "end_time"] {
                if speaker.get(field).is_some_and(|v| !v.is_null()) {
                    writes.push(Write::new(fqid, field, Value::Null));
                }
            }
        }
        return Ok(Change {
            kind: Kind::SpeakersReset,
            description: format!(
                "list_of_speakers/{list_id}: {} speakers wait again",
                speakers.len()
            ),
            key: format!("{}/begin_time", speakers[0].0),
            writes,
        });
    }
    bail!("{meeting} has no list of speakers whose speakers all have spoken")
}

/// Builds the return of every started poll of the meeting to state created.
fn polls_reset(models: &Models, meeting: &str) -> anyhow::Result<Change> {
    let polls: Vec<String> = ids(object(models, meeting)?, "poll_ids")
        .into_iter()
        .map(|id| format!("poll/{id}"))
        .filter(|poll| {
            models
                .get(poll)
                .and_then(|p| p.get("state"))
                .and_then(Value::as_str)
                == Some("started")
        })
        .collect();
    let first = polls
        .first()
        .ok_or_else(|| anyhow!("{meeting} has no started poll"))?;
    Ok(Change {
        kind: Kind::PollsReset,
        description: format!("{} polls started -> created", polls.len()),
        key: format!("{first}/state"),
        writes: polls
            .iter()
            .map(|poll| Write::new(poll, "state", json!("created")))
            .collect(),
    })
}

/// Applies the writes to the models.
pub fn apply(models: &mut Models, change: &Change) {
    for write in &change.writes {
        let object = models.entry(write.fqid.clone()).or_default();
        if write.value.is_null() {
            object.remove(&write.field);
        } else {
            object.insert(write.field.clone(), write.value.clone());
        }
    }
}

/// Groups the writes by object: per fqid the fields to set (a JSON object) and the
/// fields to delete.
pub fn by_object(change: &Change) -> BTreeMap<String, (Map<String, Value>, Vec<String>)> {
    let mut objects: BTreeMap<String, (Map<String, Value>, Vec<String>)> = BTreeMap::new();
    for write in &change.writes {
        let entry = objects.entry(write.fqid.clone()).or_default();
        if write.value.is_null() {
            entry.1.push(write.field.clone());
        } else {
            entry.0.insert(write.field.clone(), write.value.clone());
        }
    }
    objects
}

/// Returns the field-value pairs of the `ModifiedFields` entry, each key with its JSON
/// value.
pub fn stream_fields(change: &Change) -> Vec<(String, String)> {
    change
        .writes
        .iter()
        .map(|write| (write.key(), write.value.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models() -> Models {
        let data = json!({
            "meeting/1": {"id": 1, "motion_ids": [1, 2], "poll_ids": [1, 2],
                "group_ids": [1, 2, 3], "projector_ids": [4], "list_of_speakers_ids": [1, 2],
                "list_of_speakers_couple_countdown": true, "list_of_speakers_countdown_id": 1},
            "motion/1": {"id": 1, "title": "A", "state_id": 2},
            "motion/2": {"id": 2, "title": "B", "state_id": 1},
            "motion_state/1": {"id": 1, "workflow_id": 1, "restrictions": [], "motion_ids": [2]},
            "motion_state/2": {"id": 2, "workflow_id": 1, "restrictions": ["is_submitter"], "motion_ids": [1]},
            "motion_workflow/1": {"id": 1, "state_ids": [1, 2]},
            "poll/1": {"id": 1, "state": "finished"},
            "poll/2": {"id": 2, "state": "created"},
            "group/1": {"id": 1, "name": "Default", "meeting_user_ids": [5]},
            "group/2": {"id": 2, "name": "Delegates", "meeting_user_ids": [5]},
            "group/3": {"id": 3, "name": "Staff", "meeting_user_ids": []},
            "meeting_user/5": {"id": 5, "user_id": 9, "group_ids": [1, 2]},
            "projector/4": {"id": 4, "name": "P"},
            "list_of_speakers/1": {"id": 1, "speaker_ids": [1]},
            "list_of_speakers/2": {"id": 2, "speaker_ids": [2, 3, 4]},
            "speaker/1": {"id": 1, "begin_time": 10, "end_time": 20},
            "speaker/2": {"id": 2, "begin_time": 30, "weight": 1},
            "speaker/3": {"id": 3, "weight": 3},
            "speaker/4": {"id": 4, "weight": 2},
            "projector_countdown/1": {"id": 1, "default_time": 60, "running": false},
        });
        data.as_object()
            .unwrap()
            .iter()
            .map(|(fqid, object)| (fqid.clone(), object.as_object().unwrap().clone()))
            .collect()
    }

    fn targets(models: &Models) -> Targets {
        Targets::choose(models, "meeting_user/5").unwrap()
    }

    #[test]
    fn chooses_targets() {
        let models = models();
        let targets = targets(&models);
        assert_eq!(targets.meeting, "meeting/1");
        assert_eq!(targets.motion, "motion/1");
        assert_eq!(targets.state_motion, "motion/2");
        assert_eq!(targets.open_state, "motion_state/1");
        assert_eq!(targets.restricted_state, "motion_state/2");
        assert_eq!(targets.group, "group/3");
        assert_eq!(targets.permission_group.as_deref(), Some("group/1"));
        assert_eq!(targets.unrelated, "projector/4");
    }

    #[test]
    fn members_of_named_groups() {
        let models = models();
        let members = group_members(&models, "meeting/1", &["delegates".into()]).unwrap();
        assert_eq!(members, vec![(9, "meeting_user/5".to_string())]);
        assert!(group_members(&models, "meeting/1", &["nobody".into()]).is_err());
    }

    #[test]
    fn motion_state_round_trip() {
        let mut models = models();
        let targets = targets(&models);
        let change = build(Kind::MotionState, &models, &targets, 0, 100).unwrap();
        assert_eq!(change.key, "motion/2/state_id");
        apply(&mut models, &change);
        assert_eq!(models["motion/2"]["state_id"], json!(2));
        assert_eq!(models["motion_state/1"]["motion_ids"], json!([]));
        assert_eq!(models["motion_state/2"]["motion_ids"], json!([1, 2]));

        let back = build(Kind::MotionState, &models, &targets, 1, 101).unwrap();
        apply(&mut models, &back);
        assert_eq!(models["motion/2"]["state_id"], json!(1));
        assert_eq!(models["motion_state/1"]["motion_ids"], json!([2]));
        assert_eq!(models["motion_state/2"]["motion_ids"], json!([1]));
    }

    #[test]
    fn speaker_starts_after_the_current_one() {
        let mut models = models();
        let targets = targets(&models);
        let change = build(Kind::SpeakerStarted, &models, &targets, 0, 100).unwrap();
        assert_eq!(change.key, "speaker/4/begin_time");
        let keys: Vec<String> = change.writes.iter().map(Write::key).collect();
        assert_eq!(
            keys,
            vec![
                "speaker/4/begin_time",
                "speaker/2/end_time",
                "projector_countdown/1/running",
                "projector_countdown/1/countdown_time"
            ]
        );
        apply(&mut models, &change);
        let next = build(Kind::SpeakerStarted, &models, &targets, 1, 200).unwrap();
        assert_eq!(next.key, "speaker/3/begin_time");
        assert!(next
            .writes
            .contains(&Write::new("speaker/4", "end_time", json!(200))));
    }

    #[test]
    fn poll_starts_once() {
        let mut models = models();
        let targets = targets(&models);
        let change = build(Kind::PollStarted, &models, &targets, 0, 0).unwrap();
        assert_eq!(change.key, "poll/2/state");
        apply(&mut models, &change);
        assert!(build(Kind::PollStarted, &models, &targets, 1, 0).is_err());
    }

    #[test]
    fn user_joins_and_leaves_a_group() {
        let mut models = models();
        let targets = targets(&models);
        let join = build(Kind::UserGroup, &models, &targets, 0, 0).unwrap();
        apply(&mut models, &join);
        assert_eq!(models["meeting_user/5"]["group_ids"], json!([1, 2, 3]));
        assert_eq!(models["group/3"]["meeting_user_ids"], json!([5]));
        let leave = build(Kind::UserGroup, &models, &targets, 1, 0).unwrap();
        apply(&mut models, &leave);
        assert_eq!(models["meeting_user/5"]["group_ids"], json!([1, 2]));
        assert_eq!(models["group/3"]["meeting_user_ids"], json!([]));
    }

    #[test]
    fn group_gains_and_loses_a_permission() {
        let mut models = models();
        let targets = targets(&models);
        let gain = build(Kind::GroupPermission, &models, &targets, 0, 0).unwrap();
        assert_eq!(gain.key, "group/1/permissions");
        apply(&mut models, &gain);
        assert_eq!(
            models["group/1"]["permissions"],
            json!([TOGGLED_PERMISSION])
        );
        let lose = build(Kind::GroupPermission, &models, &targets, 1, 0).unwrap();
        apply(&mut models, &lose);
        assert_eq!(models["group/1"]["permissions"], json!([]));
    }

    #[test]
    fn speakers_wait_again_after_all_spoke() {
        let mut models = models();
        let targets = targets(&models);
        for round in 0..2 {
            let change = build_repeating(Kind::SpeakerStarted, &models, &targets, round, 100);
            let change = change.unwrap();
            assert_eq!(change.kind, Kind::SpeakerStarted);
            apply(&mut models, &change);
        }
        let reset = build_repeating(Kind::SpeakerStarted, &models, &targets, 2, 100).unwrap();
        assert_eq!(reset.kind, Kind::SpeakersReset);
        assert!(reset
            .writes
            .contains(&Write::new("speaker/1", "end_time", Value::Null)));
        assert!(reset.writes.iter().all(|write| write.value.is_null()));
        apply(&mut models, &reset);
        assert!(models["speaker/1"].get("begin_time").is_none());
        let again = build_repeating(Kind::SpeakerStarted, &models, &targets, 3, 100).unwrap();
        assert_eq!(again.key, "speaker/1/begin_time");
    }

    #[test]
    fn polls_return_to_created() {
        let mut models = models();
        let targets = targets(&models);
        let start = build_repeating(Kind::PollStarted, &models, &targets, 0, 0).unwrap();
        apply(&mut models, &start);
        let reset = build_repeating(Kind::PollStarted, &models, &targets, 1, 0).unwrap();
        assert_eq!(reset.kind, Kind::PollsReset);
        apply(&mut models, &reset);
        assert_eq!(models["poll/2"]["state"], json!("created"));
        assert_eq!(models["poll/1"]["state"], json!("finished"));
    }

    #[test]
    fn writes_for_postgres_and_redis() {
        let models = models();
        let targets = targets(&models);
        let mut change = build(Kind::MotionTitle, &models, &targets, 0, 7).unwrap();
        change
            .writes
            .push(Write::new("motion/1", "number", Value::Null));
        let objects = by_object(&change);
        let (set, deleted) = &objects["motion/1"];
        assert_eq!(set["title"], json!("Load test title 1"));
        assert_eq!(deleted, &vec!["number".to_string()]);
        assert_eq!(
            stream_fields(&change),
            vec![
                ("motion/1/title".into(), "\"Load test title 1\"".into()),
                ("motion/1/last_modified".into(), "7".into()),
                ("motion/1/number".into(), "null".into()),
            ]
        );
    }
}
