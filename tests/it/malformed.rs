//! A corpus of malformed stacks (tests/fixtures/malformed/*): each planted
//! problem must get exactly one diagnostic, at its file:line:col — no
//! cascades after a syntax error, nothing hidden behind a broken block.
//!
//! Each case states what it expects in `#! [FILE] LINE:COL TEXT` lines
//! (FILE defaults to the file holding the line; TEXT is part of the message).

use gantry::config::{load_dir, LoadOptions};
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Expect {
    file: String,
    line: u64,
    col: u64,
    text: String,
}

fn expectations(dir: &Path) -> Vec<Expect> {
    let mut out = Vec::new();
    for f in gantry::config::list_stack_files(dir).unwrap() {
        let bytes = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for l in text.lines().filter_map(|l| l.strip_prefix("#! ")) {
            let (file, rest) = match l.split_once(' ') {
                Some((first, rest)) if first.ends_with(".hcl") => (first.to_string(), rest),
                _ => (name.clone(), l),
            };
            let (pos, text) = rest.split_once(' ').unwrap_or((rest, ""));
            let (line, col) = pos.split_once(':').unwrap_or_else(|| panic!("{}: bad expectation {l:?}", f.display()));
            out.push(Expect { file, line: line.parse().unwrap(), col: col.parse().unwrap(), text: text.to_string() });
        }
    }
    out.sort();
    out
}

#[test]
fn every_planted_problem_gets_exactly_one_diagnostic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/malformed");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    assert!(cases.len() >= 14, "{}", root.display());
    let mut failures = Vec::new();
    let mut transcript = String::new();
    for case in &cases {
        let want = expectations(case);
        assert!(!want.is_empty(), "{} plants no problem", case.display());
        let l = load_dir(case, &LoadOptions::default(), &gantry::ops::language());
        let got: Vec<Expect> = l
            .diags
            .to_json(&l.sources)
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| Expect {
                file: d["location"]["file"].as_str().map(|f| Path::new(f).file_name().unwrap().to_string_lossy().to_string()).unwrap_or_default(),
                line: d["location"]["line"].as_u64().unwrap_or(0),
                col: d["location"]["column"].as_u64().unwrap_or(0),
                text: d["message"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let matches = |w: &Expect, g: &Expect| w.file == g.file && w.line == g.line && w.col == g.col && g.text.contains(&w.text);
        let ok = got.len() == want.len() && want.iter().all(|w| got.iter().filter(|g| matches(w, g)).count() == 1);
        let rendered = l.diags.render(&l.sources, false).replace(&format!("{}/", case.display()), "");
        transcript.push_str(&format!("=== {}\n{rendered}\n", case.file_name().unwrap().to_string_lossy()));
        if !ok {
            failures.push(format!("{}:\n  want {want:#?}\n  got  {got:#?}\n{}", case.display(), l.diags.render(&l.sources, false)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What the user sees for the whole corpus, reviewed as a snapshot.
    insta::assert_snapshot!("malformed_corpus", transcript);
}
