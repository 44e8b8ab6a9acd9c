//! The fuzz targets (`fuzz/src/lib.rs`) run on mutated seeds for a bounded time, without
//! libFuzzer: what `.ci/run` can afford (building the cargo-fuzz targets with their
//! sanitizers takes longer than the whole CI budget). Byte mutations for every target,
//! and mutations at the JSON level for the discovery document and the JWT's header and
//! claims, so most inputs get past the parsers. The random seed is printed; a panic
//! names the input and leaves it in `target/fuzz-failures/` to replay with
//! `cargo fuzz run <target> <file>`.
//!
//! `cargo test --test it fuzz::` runs each target briefly; `.ci/run` gives each
//! `FUZZ_SECONDS` (ignored tests: `-- --ignored fuzz::bounded`).

use base64::Engine as _;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[path = "../../fuzz/src/lib.rs"]
mod targets;

/// A small, fast generator (xorshift64*): reproducible from its printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Pieces an attacker would try, spliced in by the byte mutator.
const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    ".",
    "%",
    "%00",
    "%zz",
    "&",
    "=",
    "?",
    "#",
    "://",
    "eyJ",
    "state=",
    "state-1",
    "&iss=",
    "code=",
    "error=",
    "https://",
    "http://",
    "169.254.169.254",
    "[::1]",
    "127.0.0.1",
    "smb://",
    "javascript:",
    "\u{202e}",
    "\u{0}",
    "1e400",
    "-1",
    "18446744073709551616",
    "null",
    "true",
    "\"issuer\"",
    "\\u0000",
];

/// Values the JSON mutator puts in a member.
fn json_values(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => json!(rng.next() as f64 * 1e300),
        2 => json!(-1),
        3 => json!(true),
        4 => json!([]),
        5 => json!({}),
        6 => json!(["PS256", "none", 1, null]),
        7 => json!("https://as.example/x"),
        8 => json!("http://169.254.169.254/latest"),
        9 => json!("smb://attacker/share"),
        10 => json!(*rng.pick(TOKENS)),
        _ => json!("x".repeat(rng.below(5000))),
    }
}

fn mutate_json(rng: &mut Rng, value: &mut Value, depth: usize) {
    match value {
        Value::Object(map) if !map.is_empty() && depth < 4 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match rng.below(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, json_values(rng));
                }
                2 => {
                    map.insert(format!("{key}{}", rng.below(3)), json_values(rng));
                }
                _ => {
                    if let Some(inner) = map.get_mut(&key) {
                        mutate_json(rng, inner, depth + 1);
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() && depth < 4 => {
            let at = rng.below(items.len());
            mutate_json(rng, &mut items[at], depth + 1);
        }
        other => *other = json_values(rng),
    }
}

fn mutate_bytes(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(6) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 => input.insert(rng.below(len + 1), rng.next() as u8),
            2 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at..end);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                let copy = input[at..end].to_vec();
                let to = rng.below(input.len() + 1);
                input.splice(to..to, copy);
            }
            4 => {
                let at = rng.below(len + 1);
                input.splice(at..at, rng.pick(TOKENS).bytes());
            }
            _ => {
                let other = rng.pick(pool);
                let cut = rng.below(input.len() + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
        }
    }
}

/// A JWT whose header and claims are mutated JSON, so the checks behind the decoder run.
fn mutate_jwt(rng: &mut Rng, seed: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(seed).ok()?;
    let mut parts: Vec<String> = text.split('.').map(str::to_owned).collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let at = rng.below(parts.len().min(2));
    let mut value: Value = serde_json::from_slice(&engine.decode(&parts[at]).ok()?).ok()?;
    mutate_json(rng, &mut value, 0);
    parts[at] = engine.encode(value.to_string());
    Some(parts.join(".").into_bytes())
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// Runs a target on its seeds, then on mutants until `budget` is spent; returns the
/// number of inputs run.
fn run(target: &str, body: fn(&[u8]), budget: Duration) -> u64 {
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    println!("fuzz {target}: FUZZ_SEED={seed}");
    let mut rng = Rng(seed);
    let originals = seeds(target);
    let mut pool = originals.clone();
    let started = Instant::now();
    let mut runs = 0u64;
    let mut input = Vec::new();
    let try_one = |input: &[u8]| {
        let outcome = std::panic::catch_unwind(|| body(input));
        if outcome.is_err() {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{target}-{seed}"));
            let _ = std::fs::write(&file, input);
            panic!(
                "fuzz {target} panicked on {:?} (kept in {})",
                String::from_utf8_lossy(input),
                file.display()
            );
        }
    };
    for s in &originals {
        try_one(s);
    }
    while started.elapsed() < budget {
        for _ in 0..64 {
            // Half from the seeds, half from the walk, so the walk never drifts into
            // only garbage.
            let base = if rng.below(2) == 0 {
                rng.pick(&originals).clone()
            } else {
                rng.pick(&pool).clone()
            };
            input.clear();
            let structured = match target {
                "discovery" if rng.below(2) == 0 => {
                    serde_json::from_slice::<Value>(&base).ok().map(|mut v| {
                        mutate_json(&mut rng, &mut v, 0);
                        v.to_string().into_bytes()
                    })
                }
                "decode" if rng.below(2) == 0 => mutate_jwt(&mut rng, &base),
                _ => None,
            };
            match structured {
                Some(bytes) => input.extend(bytes),
                None => {
                    input.extend_from_slice(&base);
                    mutate_bytes(&mut rng, &mut input, &pool);
                }
            }
            input.truncate(64 * 1024);
            try_one(&input);
            runs += 1;
            // A random walk: some mutants become bases for the next.
            if rng.below(8) == 0 {
                if pool.len() > 256 {
                    let at = rng.below(pool.len());
                    pool.swap_remove(at);
                }
                pool.push(input.clone());
            }
        }
    }
    println!(
        "fuzz {target}: {runs} inputs in {:.1} s, no panic",
        started.elapsed().as_secs_f64()
    );
    runs
}

fn budget() -> Duration {
    Duration::from_secs(
        std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    )
}

/// A target: its name (its seeds' folder) and its body.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 3] = [
    ("decode", targets::decode),
    ("discovery", targets::discovery),
    ("redirect", targets::redirect),
];

/// Every target on its seeds and a moment of mutants, in every test run.
#[test]
fn every_target_survives_its_seeds_and_some_mutants() {
    for (name, body) in TARGETS {
        assert!(
            run(name, body, Duration::from_millis(300)) > 0,
            "{name} ran nothing"
        );
    }
}

/// The bounded run `.ci/run` makes: each target for `FUZZ_SECONDS` (default 60).
#[test]
#[ignore = "long: run by .ci/run with FUZZ_SECONDS"]
fn bounded() {
    for (name, body) in TARGETS {
        run(name, body, budget());
    }
}
