//! Topics with their agenda items, lists of speakers for all content, and speakers.

use std::cmp::Ordering;

use rand::seq::SliceRandom;
use rand::Rng;

use super::meeting::{MeetingBuilder, Participant, Role};
use super::{text, GenerateOptions};
use crate::models::{Collection, Fqid};

/// A motion or topic with its list of speakers and, if it is on the agenda, its agenda item.
#[derive(Clone, Copy, Debug)]
pub(super) struct ListOfSpeakersEntry {
    pub content: Fqid,
    pub list_of_speakers: Fqid,
    pub agenda_item: Option<Fqid>,
}

/// The topics of a meeting and where motions join the agenda.
pub(super) struct Agenda {
    /// Topics in agenda order.
    pub entries: Vec<ListOfSpeakersEntry>,
    /// How many motions get an agenda item below `motions_item`. When this is positive,
    /// `motions_item` is set, because motions take at most a third of the agenda items.
    pub motion_items: usize,
    /// The agenda item of the "Motions" topic with its item number.
    pub motions_item: Option<(Fqid, String)>,
    /// The index of the "Motions" topic in `entries`.
    pub motions_topic_index: Option<usize>,
    /// The next free agenda item weight.
    pub next_weight: u64,
}

/// Position of the "Motions" topic in the agenda, or the last position when there are fewer
/// topics.
const MOTIONS_TOPIC_POSITION: usize = 4;

/// Returns the lists of speakers in agenda order: the topics up to the "Motions" topic,
/// the motions on the agenda, the remaining topics and then the motions that are not on the
/// agenda. `motions` must have the motions on the agenda first.
pub(super) fn agenda_order(
    agenda: &Agenda,
    motions: &[ListOfSpeakersEntry],
) -> Vec<ListOfSpeakersEntry> {
    let split = agenda
        .motions_topic_index
        .map_or(agenda.entries.len(), |index| index + 1);
    let (topics_before, topics_after) = agenda.entries.split_at(split);
    let (motions_on_agenda, other_motions) =
        motions.split_at(agenda.motion_items.min(motions.len()));
    topics_before
        .iter()
        .chain(motions_on_agenda)
        .chain(topics_after)
        .chain(other_motions)
        .copied()
        .collect()
}

impl MeetingBuilder<'_> {
    /// Creates the topics with agenda items and lists of speakers. Up to a third of the
    /// agenda items are left for motions, which become children of a "Motions" topic.
    pub(super) fn create_topics(&mut self, options: &GenerateOptions) -> Agenda {
        let motion_items = options.motions.min(options.agenda_items / 3);
        let topic_count = options.agenda_items - motion_items;
        let motions_position = (motion_items > 0 && topic_count > 0)
            .then(|| MOTIONS_TOPIC_POSITION.min(topic_count - 1));

        let mut entries = Vec::with_capacity(topic_count);
        let mut motions_item = None;
        let mut other_topics = 0;
        for position in 0..topic_count {
            let title = if Some(position) == motions_position {
                "Motions".to_string()
            } else {
                other_topics += 1;
                text::TOPIC_TITLES.get(other_topics - 1).map_or_else(
                    || format!("Topic {other_topics}"),
                    |title| title.to_string(),
                )
            };
            let topic = self.store.create(Collection::Topic);
            let sequential_number = self.next_sequential_number(Collection::Topic);
            self.store.set(topic, "title", title);
            self.store.set(topic, "text", text::paragraphs(self.rng, 1));
            self.store
                .set(topic, "sequential_number", sequential_number);
            self.store.link(topic, "meeting_id", self.meeting);

            let item_number = format!("TOP {}", position + 1);
            let is_motions_topic = Some(position) == motions_position;
            let internal = !is_motions_topic && position % 7 == 6;
            let agenda_item =
                self.create_agenda_item(topic, &item_number, position as u64 + 1, internal);
            if is_motions_topic {
                motions_item = Some((agenda_item, item_number));
            }
            let list_of_speakers = self.create_list_of_speakers(topic);
            entries.push(ListOfSpeakersEntry {
                content: topic,
                list_of_speakers,
                agenda_item: Some(agenda_item),
            });
        }

        Agenda {
            entries,
            motion_items,
            motions_item,
            motions_topic_index: motions_position,
            next_weight: topic_count as u64 + 1,
        }
    }

    /// Creates an agenda item for `content` on the top level.
    pub(super) fn create_agenda_item(
        &mut self,
        content: Fqid,
        item_number: &str,
        weight: u64,
        internal: bool,
    ) -> Fqid {
        let item = self.store.create(Collection::AgendaItem);
        self.store.set(item, "item_number", item_number);
        self.store
            .set(item, "type", if internal { "internal" } else { "common" });
        self.store.set(item, "is_internal", internal);
        self.store.set(item, "is_hidden", false);
        self.store.set(item, "closed", false);
        self.store.set(item, "level", 0);
        self.store.set(item, "weight", weight);
        self.store
            .set(item, "duration", 60 * self.rng.gen_range(5..=30));
        self.store.link(item, "content_object_id", content);
        self.store.link(item, "meeting_id", self.meeting);
        item
    }

    /// Creates the list of speakers that models.yml requires for every motion and topic.
    pub(super) fn create_list_of_speakers(&mut self, content: Fqid) -> Fqid {
        let list = self.store.create(Collection::ListOfSpeakers);
        let sequential_number = self.next_sequential_number(Collection::ListOfSpeakers);
        self.store.set(list, "sequential_number", sequential_number);
        self.store.set(list, "closed", false);
        self.store.link(list, "content_object_id", content);
        self.store.link(list, "meeting_id", self.meeting);
        list
    }

    /// Adds speakers to the first `count` lists as if the meeting has worked through the
    /// first third of them. Lists before the current one are closed and have only finished
    /// speakers. The current list has finished speakers, the one current speaker (with a
    /// begin time and no end time) and waiting speakers. Later lists have waiting speakers.
    ///
    /// Returns the index of the current list, or `None` when no list gets speakers.
    pub(super) fn add_speakers(
        &mut self,
        count: usize,
        lists: &[ListOfSpeakersEntry],
        participants: &[Participant],
    ) -> Option<usize> {
        let count = count.min(lists.len());
        if count == 0 {
            return None;
        }
        let mut pool: Vec<&Participant> = participants
            .iter()
            .filter(|p| matches!(p.role, Role::Delegate | Role::Staff))
            .collect();
        if pool.is_empty() {
            pool = participants.iter().collect();
        }

        let current = count / 3;
        let mut clock = self.start_time + 15 * 60;
        for (index, entry) in lists[..count].iter().enumerate() {
            let (finished, waiting) = match index.cmp(&current) {
                Ordering::Less => (self.rng.gen_range(2..=5), 0),
                Ordering::Equal => (self.rng.gen_range(1..=3), self.rng.gen_range(2..=6)),
                Ordering::Greater => (0, self.rng.gen_range(1..=4)),
            };
            let mut weight = 0;
            for _ in 0..finished {
                weight += 1;
                let end = clock + self.rng.gen_range(60..=300);
                self.add_speaker(
                    entry.list_of_speakers,
                    &pool,
                    weight,
                    Some((clock, end)),
                    false,
                );
                clock = end + 10;
            }
            if index == current {
                weight += 1;
                let speaker = self.add_speaker(entry.list_of_speakers, &pool, weight, None, false);
                self.store.set(speaker, "begin_time", clock);
            }
            for position in 0..waiting {
                weight += 1;
                let point_of_order = index == current && position == 0;
                self.add_speaker(entry.list_of_speakers, &pool, weight, None, point_of_order);
            }
            if index < current {
                self.store.set(entry.list_of_speakers, "closed", true);
                if let Some(item) = entry.agenda_item {
                    self.store.set(item, "closed", true);
                }
            }
        }
        Some(current)
    }

    /// Adds a speaker, finished when `times` contains begin and end time.
    fn add_speaker(
        &mut self,
        list_of_speakers: Fqid,
        pool: &[&Participant],
        weight: u64,
        times: Option<(i64, i64)>,
        point_of_order: bool,
    ) -> Fqid {
        let speaker = self.store.create(Collection::Speaker);
        self.store.set(speaker, "weight", weight);
        if let Some((begin, end)) = times {
            self.store.set(speaker, "begin_time", begin);
            self.store.set(speaker, "end_time", end);
            self.store.set(speaker, "total_pause", 0);
        }
        if point_of_order {
            self.store.set(speaker, "point_of_order", true);
        }
        self.store
            .link(speaker, "list_of_speakers_id", list_of_speakers);
        if let Some(participant) = pool.choose(self.rng) {
            self.store
                .link(speaker, "meeting_user_id", participant.meeting_user);
        }
        self.store.link(speaker, "meeting_id", self.meeting);
        speaker
    }
}
