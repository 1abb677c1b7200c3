//! Mutation testing of the loader: the shipped stacks, mangled by seeded
//! random edits (characters dropped, inserted, lines swapped, duplicated,
//! cut short), are loaded for a bounded time. Every input must load without
//! a panic, and every error must say where it is (file, line, column).

use gantry::config::{load_dir, LoadOptions};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Characters the edits insert: the ones HCL gives meaning to, and some it does not.
const NOISE: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "=",
    ",",
    ".",
    "$",
    "${",
    "%{",
    "#",
    "//",
    "/*",
    "*/",
    "<<EOF\n",
    "\n",
    " ",
    "\\",
    "é",
    "\u{0}",
    "9",
    "-",
    "?",
    ":",
    "*",
    "%",
    "!",
    "&&",
    "count.index",
    "var.",
    "local.",
    "1 % 0",
];

fn mutate(rng: &mut fastrand::Rng, text: &str) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..rng.usize(1..4) {
        if s.is_empty() {
            break;
        }
        let at = rng.usize(0..s.len());
        match rng.u8(0..6) {
            0 => {
                let n = rng.usize(1..8).min(s.len() - at);
                s.drain(at..at + n);
            }
            1 | 2 => {
                let noise = NOISE[rng.usize(0..NOISE.len())];
                for (i, c) in noise.chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
            3 => s.truncate(at),
            _ => {
                let text: String = s.iter().collect();
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.len() > 2 {
                    let (a, b) = (rng.usize(0..lines.len()), rng.usize(0..lines.len()));
                    if rng.bool() {
                        lines.swap(a, b);
                    } else {
                        lines.insert(a, lines[b]);
                    }
                }
                s = lines.join("\n").chars().collect();
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn mangled_stacks_never_panic_and_every_error_is_located() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    // Stacks name policies as ../../policies/...: keep that layout.
    std::os::unix::fs::symlink(repo.join("policies"), work.path().join("policies")).unwrap();
    let mut stacks: Vec<PathBuf> = std::fs::read_dir(repo.join("stacks")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    stacks.sort();
    let budget = Duration::from_secs(std::env::var("GANTRY_MUTATION_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(8));
    let mut rng = fastrand::Rng::with_seed(std::env::var("GANTRY_MUTATION_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2026));
    let lang = gantry::ops::language();
    let started = Instant::now();
    let (mut runs, mut panics, mut unlocated) = (0u32, Vec::new(), Vec::new());
    while started.elapsed() < budget {
        let src = &stacks[rng.usize(0..stacks.len())];
        let dir = work.path().join("stacks").join(format!("m{runs}"));
        crate::support::copy_dir(src, &dir);
        let files = gantry::config::list_stack_files(&dir).unwrap();
        let victim = &files[rng.usize(0..files.len())];
        let text = std::fs::read_to_string(victim).unwrap();
        let mangled = mutate(&mut rng, &text);
        std::fs::write(victim, &mangled).unwrap();
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load_dir(&dir, &LoadOptions::default(), &lang)));
        match loaded {
            Err(_) => panics.push((src.clone(), mangled)),
            Ok(l) => {
                for d in l.diags.iter().filter(|d| d.severity == gantry::config::diag::Severity::Error && d.span.is_none()) {
                    // A directory without a stack block has no line to point at.
                    if !d.message.starts_with("no `stack` block found") {
                        unlocated.push(format!("{}: {}", src.display(), d.message));
                    }
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
        runs += 1;
    }
    println!("{runs} mangled stacks loaded in {:?}: {} panics, {} unlocated errors", started.elapsed(), panics.len(), unlocated.len());
    assert!(runs >= 50, "too few runs to mean anything: {runs}");
    assert!(panics.is_empty(), "{} of {runs} panicked; first input:\n{}", panics.len(), panics[0].1);
    assert!(unlocated.is_empty(), "errors without a location: {unlocated:#?}");
}
