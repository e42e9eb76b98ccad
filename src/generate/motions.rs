//! Motion workflows with their states, categories, tags, motions with submitters and
//! supporters, and motion polls with options and votes.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::json;

use super::agenda::{Agenda, ListOfSpeakersEntry};
use super::meeting::{Groups, MeetingBuilder, Participant, Role};
use super::{text, GenerateOptions};
use crate::models::{Collection, Fqid};

const DAY: i64 = 24 * 60 * 60;

/// One state of a workflow, as the fields of `motion_state`.
pub(super) struct StateSpec {
    name: &'static str,
    css_class: &'static str,
    recommendation_label: Option<&'static str>,
    restrictions: &'static [&'static str],
    allow_support: bool,
    allow_create_poll: bool,
    allow_submitter_edit: bool,
    set_number: bool,
    merge_amendment_into_final: &'static str,
    /// Indexes of the states that can follow this one.
    next: &'static [usize],
    /// Relative share of generated motions in this state.
    share: u32,
}

const BASE_STATE: StateSpec = StateSpec {
    name: "",
    css_class: "lightblue",
    recommendation_label: None,
    restrictions: &[],
    allow_support: false,
    allow_create_poll: false,
    allow_submitter_edit: false,
    set_number: true,
    merge_amendment_into_final: "undefined",
    next: &[],
    share: 10,
};

const SIMPLE_WORKFLOW: &[StateSpec] = &[
    StateSpec {
        name: "submitted",
        allow_support: true,
        allow_create_poll: true,
        allow_submitter_edit: true,
        next: &[1, 2, 3],
        share: 50,
        ..BASE_STATE
    },
    StateSpec {
        name: "accepted",
        css_class: "green",
        recommendation_label: Some("Acceptance"),
        merge_amendment_into_final: "do_merge",
        share: 20,
        ..BASE_STATE
    },
    StateSpec {
        name: "rejected",
        css_class: "red",
        recommendation_label: Some("Rejection"),
        merge_amendment_into_final: "do_not_merge",
        share: 15,
        ..BASE_STATE
    },
    StateSpec {
        name: "not decided",
        css_class: "grey",
        recommendation_label: Some("No decision"),
        merge_amendment_into_final: "do_not_merge",
        share: 15,
        ..BASE_STATE
    },
];

/// A workflow whose first state hides motions from everyone except submitters and those
/// who may see internal motions.
const COMPLEX_WORKFLOW: &[StateSpec] = &[
    StateSpec {
        name: "in progress",
        restrictions: &["motion.can_see_internal", "is_submitter"],
        allow_submitter_edit: true,
        set_number: false,
        next: &[1, 6],
        share: 15,
        ..BASE_STATE
    },
    StateSpec {
        name: "submitted",
        allow_support: true,
        allow_submitter_edit: true,
        next: &[2, 6],
        share: 25,
        ..BASE_STATE
    },
    StateSpec {
        name: "permitted",
        recommendation_label: Some("Permission"),
        allow_create_poll: true,
        next: &[3, 4, 5, 6],
        share: 25,
        ..BASE_STATE
    },
    StateSpec {
        name: "accepted",
        css_class: "green",
        recommendation_label: Some("Acceptance"),
        merge_amendment_into_final: "do_merge",
        ..BASE_STATE
    },
    StateSpec {
        name: "rejected",
        css_class: "red",
        recommendation_label: Some("Rejection"),
        merge_amendment_into_final: "do_not_merge",
        ..BASE_STATE
    },
    StateSpec {
        name: "adjourned",
        css_class: "grey",
        recommendation_label: Some("Adjournment"),
        merge_amendment_into_final: "do_not_merge",
        ..BASE_STATE
    },
    StateSpec {
        name: "withdrawn",
        css_class: "grey",
        merge_amendment_into_final: "do_not_merge",
        share: 5,
        ..BASE_STATE
    },
];

/// A created workflow: its object and its states in the order of the specs.
pub(super) struct Workflow {
    pub workflow: Fqid,
    pub states: Vec<Fqid>,
    pub specs: &'static [StateSpec],
}

/// The simple workflow is the meeting's default, the complex one its amendment default.
pub(super) struct Workflows {
    pub simple: Workflow,
    pub complex: Workflow,
}

/// The motions of a meeting in creation order, and their lists of speakers with the motions
/// on the agenda first.
pub(super) struct Motions {
    pub motions: Vec<Fqid>,
    pub entries: Vec<ListOfSpeakersEntry>,
}

const POLL_STATES: [&str; 4] = ["created", "started", "finished", "published"];

impl MeetingBuilder<'_> {
    pub(super) fn create_workflows(&mut self) -> Workflows {
        let simple = self.create_workflow("Simple Workflow", SIMPLE_WORKFLOW);
        let complex = self.create_workflow("Complex Workflow", COMPLEX_WORKFLOW);
        let meeting = self.meeting;
        self.store
            .link(meeting, "motions_default_workflow_id", simple.workflow);
        self.store.link(
            meeting,
            "motions_default_amendment_workflow_id",
            complex.workflow,
        );
        Workflows { simple, complex }
    }

    fn create_workflow(&mut self, name: &str, specs: &'static [StateSpec]) -> Workflow {
        let workflow = self.store.create(Collection::MotionWorkflow);
        let sequential_number = self.next_sequential_number(Collection::MotionWorkflow);
        self.store.set(workflow, "name", name);
        self.store
            .set(workflow, "sequential_number", sequential_number);
        self.store.link(workflow, "meeting_id", self.meeting);

        let mut states = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let state = self.store.create(Collection::MotionState);
            self.store.set(state, "name", spec.name);
            self.store.set(state, "weight", index as u64 + 1);
            self.store.set(state, "css_class", spec.css_class);
            if let Some(label) = spec.recommendation_label {
                self.store.set(state, "recommendation_label", label);
            }
            self.store.set(state, "restrictions", spec.restrictions);
            self.store.set(state, "allow_support", spec.allow_support);
            self.store
                .set(state, "allow_create_poll", spec.allow_create_poll);
            self.store
                .set(state, "allow_submitter_edit", spec.allow_submitter_edit);
            self.store.set(state, "set_number", spec.set_number);
            self.store.set(
                state,
                "merge_amendment_into_final",
                spec.merge_amendment_into_final,
            );
            self.store.set(state, "show_state_extension_field", false);
            self.store
                .set(state, "show_recommendation_extension_field", false);
            self.store.set(state, "allow_motion_forwarding", false);
            self.store.set(state, "set_workflow_timestamp", index == 0);
            self.store.link(state, "workflow_id", workflow);
            self.store.link(state, "meeting_id", self.meeting);
            states.push(state);
        }
        self.store.link(workflow, "first_state_id", states[0]);
        for (index, spec) in specs.iter().enumerate() {
            for &next in spec.next {
                self.store
                    .link(states[index], "next_state_ids", states[next]);
            }
        }
        Workflow {
            workflow,
            states,
            specs,
        }
    }

    /// Creates the motions with categories, tags, submitters, supporters, lists of speakers
    /// and, for the first `agenda.motion_items` motions, agenda items.
    pub(super) fn create_motions(
        &mut self,
        options: &GenerateOptions,
        workflows: &Workflows,
        participants: &[Participant],
        agenda: &Agenda,
    ) -> Motions {
        let categories = self.create_categories(options.motions);
        let tags = self.create_tags();
        let mut authors: Vec<&Participant> = participants
            .iter()
            .filter(|participant| participant.role == Role::Delegate)
            .collect();
        if authors.is_empty() {
            authors = participants.iter().collect();
        }

        let mut motions = Vec::with_capacity(options.motions);
        let mut entries = Vec::with_capacity(options.motions);
        let mut numbers: Vec<Option<String>> = Vec::with_capacity(options.motions);
        let mut amendment_counts = vec![0_u32; options.motions];
        let mut lead_candidates: Vec<usize> = Vec::new();
        let mut numbers_per_prefix: BTreeMap<&str, u64> = BTreeMap::new();

        for index in 0..options.motions {
            let lead = if index % 10 == 5 {
                lead_candidates.choose(self.rng).copied()
            } else {
                None
            };
            let uses_complex = lead.is_some() || index % 4 == 3;
            let workflow = if uses_complex {
                &workflows.complex
            } else {
                &workflows.simple
            };
            let state_index = self.choose_state(workflow.specs);
            let spec = &workflow.specs[state_index];

            let motion = self.store.create(Collection::Motion);
            let sequential_number = self.next_sequential_number(Collection::Motion);
            let created = self.start_time - self.rng.gen_range(1..=60) * DAY;
            self.store
                .set(motion, "sequential_number", sequential_number);
            self.store.set(motion, "created", created);
            self.store.set(motion, "last_modified", created);
            self.store.set(motion, "workflow_timestamp", created);
            self.store.set(motion, "sort_weight", sequential_number);
            self.store.set(motion, "category_weight", 10000);
            self.store.set(motion, "start_line_number", 1);
            self.store
                .link(motion, "state_id", workflow.states[state_index]);
            self.store.link(motion, "meeting_id", self.meeting);

            let number = match lead {
                Some(lead_index) => {
                    amendment_counts[lead_index] += 1;
                    let count = amendment_counts[lead_index];
                    self.store.set(
                        motion,
                        "title",
                        format!("Amendment {count} to motion {}", lead_index + 1),
                    );
                    self.store.set(
                        motion,
                        "amendment_paragraphs",
                        json!({ "0": text::paragraphs(self.rng, 1) }),
                    );
                    self.store
                        .link(motion, "lead_motion_id", motions[lead_index]);
                    numbers[lead_index]
                        .as_ref()
                        .filter(|_| spec.set_number)
                        .map(|lead_number| format!("{lead_number}-Ä{count}"))
                }
                None => {
                    lead_candidates.push(index);
                    self.store
                        .set(motion, "title", text::motion_title(self.rng));
                    let paragraph_count = self.rng.gen_range(2..=4);
                    self.store
                        .set(motion, "text", text::paragraphs(self.rng, paragraph_count));
                    self.store
                        .set(motion, "reason", text::paragraphs(self.rng, 1));
                    let mut prefix = "A";
                    if self.rng.gen_bool(0.85) {
                        if let Some(&(category, category_prefix)) = categories.choose(self.rng) {
                            self.store.link(motion, "category_id", category);
                            prefix = category_prefix;
                        }
                    }
                    spec.set_number.then(|| {
                        let counter = numbers_per_prefix.entry(prefix).or_insert(0);
                        *counter += 1;
                        self.store.set(motion, "number_value", *counter);
                        format!("{prefix}{:02}", *counter)
                    })
                }
            };
            if let Some(number) = &number {
                self.store.set(motion, "number", number.as_str());
            }
            numbers.push(number);

            if !uses_complex && state_index == 0 && self.rng.gen_bool(0.3) {
                let recommendation = workflow.states[self.rng.gen_range(1..=2)];
                self.store.link(motion, "recommendation_id", recommendation);
            }
            self.add_submitters(motion, &authors);
            if spec.allow_support {
                let supporter_count = self.rng.gen_range(0..=3);
                let supporters: Vec<Fqid> = authors
                    .choose_multiple(self.rng, supporter_count)
                    .map(|participant| participant.meeting_user)
                    .collect();
                for supporter in supporters {
                    self.store
                        .link(motion, "supporter_meeting_user_ids", supporter);
                }
            }
            if self.rng.gen_bool(0.15) {
                if let Some(&tag) = tags.choose(self.rng) {
                    self.store.link(motion, "tag_ids", tag);
                }
            }

            let agenda_item = match &agenda.motions_item {
                Some((parent, parent_number)) if index < agenda.motion_items => {
                    let item_number = format!("{parent_number}.{}", index + 1);
                    let weight = agenda.next_weight + index as u64;
                    let item = self.create_agenda_item(motion, &item_number, weight, false);
                    self.store.set(item, "level", 1);
                    self.store.link(item, "parent_id", *parent);
                    Some(item)
                }
                _ => None,
            };
            let list_of_speakers = self.create_list_of_speakers(motion);
            entries.push(ListOfSpeakersEntry {
                content: motion,
                list_of_speakers,
                agenda_item,
            });
            motions.push(motion);
        }
        Motions { motions, entries }
    }

    /// Picks a state index with the probabilities of the specs' shares.
    fn choose_state(&mut self, specs: &[StateSpec]) -> usize {
        let total: u32 = specs.iter().map(|spec| spec.share).sum();
        let mut pick = self.rng.gen_range(0..total);
        for (index, spec) in specs.iter().enumerate() {
            if pick < spec.share {
                return index;
            }
            pick -= spec.share;
        }
        0
    }

    /// Adds one or two submitters from `authors`.
    fn add_submitters(&mut self, motion: Fqid, authors: &[&Participant]) {
        let count = self.rng.gen_range(1..=2);
        let submitters: Vec<Fqid> = authors
            .choose_multiple(self.rng, count)
            .map(|participant| participant.meeting_user)
            .collect();
        for (index, meeting_user) in submitters.into_iter().enumerate() {
            let submitter = self.store.create(Collection::MotionSubmitter);
            self.store.set(submitter, "weight", index as u64 + 1);
            self.store.link(submitter, "motion_id", motion);
            self.store.link(submitter, "meeting_user_id", meeting_user);
            self.store.link(submitter, "meeting_id", self.meeting);
        }
    }

    /// Creates one category per 25 motions, at least 2, at most one per entry of
    /// `text::CATEGORIES`. Returns each category with its number prefix.
    fn create_categories(&mut self, motion_count: usize) -> Vec<(Fqid, &'static str)> {
        let count = (motion_count / 25).clamp(2, text::CATEGORIES.len());
        text::CATEGORIES[..count]
            .iter()
            .map(|&(name, prefix)| {
                let category = self.store.create(Collection::MotionCategory);
                let sequential_number = self.next_sequential_number(Collection::MotionCategory);
                self.store.set(category, "name", name);
                self.store.set(category, "prefix", prefix);
                self.store.set(category, "weight", sequential_number);
                self.store.set(category, "level", 0);
                self.store
                    .set(category, "sequential_number", sequential_number);
                self.store.link(category, "meeting_id", self.meeting);
                (category, prefix)
            })
            .collect()
    }

    fn create_tags(&mut self) -> Vec<Fqid> {
        ["Budget relevant", "Urgent", "Needs review"]
            .into_iter()
            .map(|name| {
                let tag = self.store.create(Collection::Tag);
                self.store.set(tag, "name", name);
                self.store.link(tag, "meeting_id", self.meeting);
                tag
            })
            .collect()
    }

    /// Creates `count` motion polls spread over the motions, in the states created,
    /// started, finished and published by turns. Most are named, some pseudoanonymous or
    /// analog. Finished and published electronic polls have a vote from every present
    /// delegate and for every absent delegate whose vote delegate is present.
    ///
    /// Returns the first started poll.
    pub(super) fn create_polls(
        &mut self,
        count: usize,
        motions: &[Fqid],
        participants: &[Participant],
        groups: &Groups,
    ) -> Option<Fqid> {
        if motions.is_empty() {
            return None;
        }
        let ballots = ballots(participants);
        let mut polls_per_motion = vec![0_u32; motions.len()];
        let mut started = None;

        for index in 0..count {
            let motion_index = index * motions.len() / count;
            let motion = motions[motion_index];
            polls_per_motion[motion_index] += 1;
            let state = POLL_STATES[index % POLL_STATES.len()];
            let kind = match index % 5 {
                3 => "pseudoanonymous",
                4 if state != "started" => "analog",
                _ => "named",
            };

            let poll = self.store.create(Collection::Poll);
            let sequential_number = self.next_sequential_number(Collection::Poll);
            let title = match polls_per_motion[motion_index] {
                1 => "Vote".to_string(),
                round => format!("Vote {round}"),
            };
            self.store.set(poll, "title", title);
            self.store.set(poll, "type", kind);
            self.store.set(poll, "backend", "fast");
            self.store.set(poll, "pollmethod", "YNA");
            self.store.set(poll, "state", state);
            self.store.set(poll, "onehundred_percent_base", "YNA");
            self.store.set(poll, "min_votes_amount", 1);
            self.store.set(poll, "max_votes_amount", 1);
            self.store.set(poll, "max_votes_per_option", 1);
            self.store.set(poll, "global_yes", false);
            self.store.set(poll, "global_no", false);
            self.store.set(poll, "global_abstain", false);
            self.store
                .set(poll, "is_pseudoanonymized", kind == "pseudoanonymous");
            self.store.set(poll, "sequential_number", sequential_number);
            self.store.link(poll, "content_object_id", motion);
            self.store.link(poll, "meeting_id", self.meeting);
            if kind != "analog" {
                self.store
                    .link(poll, "entitled_group_ids", groups.delegates);
            }

            let option = self.store.create(Collection::Option);
            self.store.set(option, "weight", 1);
            self.store.link(option, "poll_id", poll);
            self.store.link(option, "content_object_id", motion);
            self.store.link(option, "meeting_id", self.meeting);
            let global_option = self.store.create(Collection::Option);
            self.store.set(global_option, "weight", 1);
            self.store.link(poll, "global_option_id", global_option);
            self.store.link(global_option, "meeting_id", self.meeting);

            match state {
                "finished" | "published" => {
                    let tally = if kind == "analog" {
                        let voters = ballots.len() as u64;
                        let yes = self.rng.gen_range(0..=voters);
                        let no = self.rng.gen_range(0..=voters - yes);
                        Tally {
                            yes,
                            no,
                            abstain: voters - yes - no,
                        }
                    } else {
                        self.cast_votes(poll, option, &ballots, kind == "pseudoanonymous")
                    };
                    self.record_tally(poll, option, global_option, &tally);
                }
                "started" if started.is_none() => started = Some(poll),
                _ => {}
            }
        }
        started
    }

    /// Creates one vote per ballot on `option`. Pseudoanonymous votes do not name the user.
    fn cast_votes(
        &mut self,
        poll: Fqid,
        option: Fqid,
        ballots: &[Ballot],
        anonymous: bool,
    ) -> Tally {
        let mut tally = Tally::default();
        for ballot in ballots {
            let value = match self.rng.gen_range(0..100) {
                0..=54 => {
                    tally.yes += 1;
                    "Y"
                }
                55..=84 => {
                    tally.no += 1;
                    "N"
                }
                _ => {
                    tally.abstain += 1;
                    "A"
                }
            };
            let vote = self.store.create(Collection::Vote);
            self.store.set(vote, "value", value);
            self.store.set(vote, "weight", "1.000000");
            self.store
                .set(vote, "user_token", text::token(self.rng, 16));
            self.store.link(vote, "option_id", option);
            self.store.link(vote, "meeting_id", self.meeting);
            if !anonymous {
                self.store.link(vote, "user_id", ballot.voter);
                self.store.link(vote, "delegated_user_id", ballot.cast_by);
            }
            self.store.link(poll, "voted_ids", ballot.voter);
        }
        tally
    }

    fn record_tally(&mut self, poll: Fqid, option: Fqid, global_option: Fqid, tally: &Tally) {
        self.store.set(option, "yes", decimal(tally.yes));
        self.store.set(option, "no", decimal(tally.no));
        self.store.set(option, "abstain", decimal(tally.abstain));
        for field in ["yes", "no", "abstain"] {
            self.store.set(global_option, field, decimal(0));
        }
        let valid = tally.yes + tally.no + tally.abstain;
        self.store.set(poll, "votesvalid", decimal(valid));
        self.store.set(poll, "votesinvalid", decimal(0));
        self.store.set(poll, "votescast", decimal(valid));
    }
}

/// One vote to cast: the user it counts for and the user who casts it, who differ when the
/// vote is delegated.
struct Ballot {
    voter: Fqid,
    cast_by: Fqid,
}

#[derive(Default)]
struct Tally {
    yes: u64,
    no: u64,
    abstain: u64,
}

/// Returns the ballots of the present delegates and of the absent delegates whose vote
/// delegate is present.
fn ballots(participants: &[Participant]) -> Vec<Ballot> {
    participants
        .iter()
        .filter(|participant| participant.role == Role::Delegate)
        .filter_map(|participant| {
            let cast_by = match participant.delegated_to {
                Some(delegate) => &participants[delegate],
                None => participant,
            };
            cast_by.present.then_some(Ballot {
                voter: participant.user,
                cast_by: cast_by.user,
            })
        })
        .collect()
}

/// Formats a count as a `decimal(6)` value, such as "3.000000".
fn decimal(count: u64) -> String {
    format!("{count}.000000")
}
