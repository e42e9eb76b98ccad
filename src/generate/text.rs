//! Word lists and random text for generated names, titles and HTML bodies.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

pub(super) const FIRST_NAMES: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ivan", "Julia", "Karl",
    "Lena", "Max", "Nora", "Oskar", "Paula", "Quentin", "Rosa", "Simon", "Tara", "Uwe", "Vera",
    "Walter", "Xenia", "Yusuf", "Zoe",
];

pub(super) const LAST_NAMES: &[&str] = &[
    "Adler",
    "Becker",
    "Costa",
    "Dietrich",
    "Engel",
    "Fischer",
    "Garcia",
    "Hoffmann",
    "Ivanova",
    "Jansen",
    "Klein",
    "Lange",
    "Meyer",
    "Novak",
    "Olsen",
    "Peters",
    "Quint",
    "Richter",
    "Schmidt",
    "Tanaka",
    "Ulrich",
    "Vogel",
    "Weber",
    "Yilmaz",
    "Zimmermann",
];

/// Agenda topics of a typical assembly, used before falling back to numbered topics.
pub(super) const TOPIC_TITLES: &[&str] = &[
    "Opening of the meeting",
    "Election of the chair",
    "Adoption of the agenda",
    "Minutes of the last meeting",
    "Report of the board",
    "Financial report",
    "Report of the auditors",
    "Discharge of the board",
    "Budget for the next year",
    "Any other business",
];

/// Motion categories as (name, number prefix).
pub(super) const CATEGORIES: &[(&str, &str)] = &[
    ("Budget", "B"),
    ("Culture", "C"),
    ("Digital", "D"),
    ("Environment", "E"),
    ("Finance", "F"),
    ("Health", "H"),
    ("International", "I"),
    ("Labour", "L"),
    ("Mobility", "M"),
    ("Statutes", "S"),
    ("Transport", "T"),
    ("Youth", "Y"),
];

const SUBJECTS: &[&str] = &[
    "public transport",
    "the annual budget",
    "membership fees",
    "renewable energy",
    "digital infrastructure",
    "youth work",
    "the statutes",
    "local libraries",
    "bicycle lanes",
    "affordable housing",
    "school meals",
    "open data",
    "the party congress",
    "climate protection",
    "health care",
];

const MOTION_VERBS: &[&str] = &[
    "Strengthen",
    "Reform",
    "Fund",
    "Review",
    "Expand",
    "Protect",
    "Modernise",
    "Simplify",
];

const WORDS: &[&str] = &[
    "assembly",
    "board",
    "members",
    "proposal",
    "decides",
    "shall",
    "budget",
    "year",
    "committee",
    "report",
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "with",
    "public",
    "local",
    "support",
    "funding",
    "project",
    "measures",
    "until",
    "review",
    "council",
    "transparent",
    "process",
    "goal",
    "citizens",
    "strategy",
    "regional",
    "network",
    "annual",
    "plan",
];

/// Returns a motion title such as "Expand bicycle lanes".
pub(super) fn motion_title(rng: &mut StdRng) -> String {
    let verb = MOTION_VERBS.choose(rng).copied().unwrap_or("Review");
    let subject = SUBJECTS.choose(rng).copied().unwrap_or("the statutes");
    format!("{verb} {subject}")
}

/// Returns `count` HTML paragraphs of 12 to 40 random words each.
pub(super) fn paragraphs(rng: &mut StdRng, count: usize) -> String {
    let mut html = String::new();
    for _ in 0..count {
        html.push_str("<p>");
        html.push_str(&sentence(rng, 12, 40));
        html.push_str("</p>");
    }
    html
}

/// Returns a capitalised sentence of `min` to `max` random words with a full stop.
pub(super) fn sentence(rng: &mut StdRng, min: usize, max: usize) -> String {
    let count = rng.gen_range(min..=max);
    let mut text = String::with_capacity(count * 8);
    for i in 0..count {
        let word = WORDS.choose(rng).copied().unwrap_or("the");
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push(' ');
            text.push_str(word);
        }
    }
    text.push('.');
    text
}

/// Returns a random token of letters and digits, like OpenSlides' vote user tokens.
pub(super) fn token(rng: &mut StdRng, length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..length)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}
