//! Replays the seed corpus of the fuzz targets in `fuzz/` through the same entry points,
//! then a fixed set of pseudo-random mutations of it. It needs neither cargo-fuzz nor a
//! nightly compiler. A panic of any parser fails the test and prints the input.
//!
//! `FUZZ_CORPUS_MUTATIONS` sets the number of mutations per target (default 3000).

use openslides_autoupdate::fuzzing;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

const DEFAULT_MUTATIONS: usize = 3000;

/// Bytes that mean something to one of the parsers, for insertions.
const SPECIAL: &[u8] = b"[]{}\",:0123456789-+/$*%~_#\r\n\\=&?";

/// Reads the files of `fuzz/corpus/<target>`, sorted by name. The seeds are the files
/// whose names start with `seed-`.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("failed to read {}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .filter(|(name, _)| name.starts_with("seed-"))
            .count()
            >= 10,
        "{} has too few seeds",
        dir.display()
    );
    files
}

/// Changes `input` by one to four random edits, sometimes splicing in part of `other`.
fn mutate(rng: &mut StdRng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let len = data.len();
        let at = rng.gen_range(0..=len);
        match rng.gen_range(0..9) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                data[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                data[i] = rng.gen();
            }
            2 => data.insert(at, SPECIAL[rng.gen_range(0..SPECIAL.len())]),
            3 if at < len => {
                let end = rng.gen_range(at..=len.min(at + 16));
                data.drain(at..end);
            }
            4 if at < len => {
                let end = rng.gen_range(at..=len.min(at + 32));
                let copy = data[at..end].to_vec();
                let to = rng.gen_range(0..=len);
                data.splice(to..to, copy);
            }
            5 => data.truncate(at),
            6 if !other.is_empty() => {
                let start = rng.gen_range(0..other.len());
                let end = rng.gen_range(start..=other.len().min(start + 64));
                data.splice(at..at, other[start..end].iter().copied());
            }
            7 => {
                let number: &[u8] = match rng.gen_range(0..6) {
                    0 => b"0",
                    1 => b"-1",
                    2 => b"4294967296",
                    3 => b"18446744073709551616",
                    4 => b"9223372036854775807",
                    _ => b"1e400",
                };
                data.splice(at..at, number.iter().copied());
            }
            _ => {
                let byte = rng.gen::<u8>();
                data.splice(at..at, std::iter::repeat_n(byte, rng.gen_range(1..64)));
            }
        }
    }
    data
}

fn run(target: &str, entry: fn(&[u8]), seed: u64) {
    let files = corpus(target);
    let check = |label: &str, data: &[u8]| {
        if catch_unwind(AssertUnwindSafe(|| entry(data))).is_err() {
            panic!(
                "{target}: {label} panicked on input \"{}\"",
                data.escape_ascii()
            );
        }
    };
    for (name, data) in &files {
        check(name, data);
    }

    let seeds: Vec<&[u8]> = files
        .iter()
        .filter(|(name, _)| name.starts_with("seed-"))
        .map(|(_, data)| data.as_slice())
        .collect();
    let count = std::env::var("FUZZ_CORPUS_MUTATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_MUTATIONS);
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..count {
        let input = seeds[rng.gen_range(0..seeds.len())];
        let other = seeds[rng.gen_range(0..seeds.len())];
        let data = mutate(&mut rng, input, other);
        check(&format!("mutation {i}"), &data);
    }
}

#[test]
fn request_corpus() {
    run("request", fuzzing::request_body, 1);
}

#[test]
fn query_corpus() {
    run("query", fuzzing::query, 2);
}

#[test]
fn multipart_corpus() {
    run("multipart", fuzzing::multipart, 3);
}

#[test]
fn redis_corpus() {
    run("redis", fuzzing::redis, 4);
}

#[test]
fn redis_decoder_reads_the_seed_forms() {
    use redis::Value as R;
    let bulk = |text: &str| R::BulkString(text.as_bytes().to_vec());
    assert_eq!(
        fuzzing::redis_value(b"*2\r\n$3\r\na\nb\r\n%1\nkey\n:7\n"),
        R::Array(vec![bulk("a\nb"), R::Map(vec![(bulk("key"), R::Int(7))])])
    );
    assert_eq!(fuzzing::redis_value(b"+OK\r\n"), R::Okay);
    assert_eq!(fuzzing::redis_value(b"_"), R::Nil);
    assert_eq!(
        fuzzing::redis_value(b"*5\r\n#t\r\n"),
        R::Array(vec![R::Boolean(true)])
    );
    assert_eq!(fuzzing::redis_value(b"$10\r\nabc"), bulk("abc"));
}
