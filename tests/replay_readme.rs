//! The README's "Replay" section stays true: its example script (the first `jsonl` code block
//! of the section) is `tests/scenarios/readme.jsonl`, the command the README shows, and
//! replayed it prints exactly the output shown under it (the second block).

use liqcore::replay::run_replay;

/// The `jsonl` code blocks of the README section that starts with `## Replay`.
fn replay_section_blocks() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("\n## Replay\n")
        .expect("README has a Replay section");
    let section = &readme[start + 1..];
    let section = match section[3..].find("\n## ") {
        Some(end) => &section[..end + 3],
        None => section,
    };
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match (&mut current, line) {
            (None, "```jsonl") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn readme_example_output_is_what_replay_prints() {
    let blocks = replay_section_blocks();
    assert!(
        blocks.len() >= 2,
        "the Replay section needs a script and its output"
    );
    assert_eq!(
        blocks[0],
        include_str!("scenarios/readme.jsonl"),
        "the README script is tests/scenarios/readme.jsonl"
    );
    let mut out = Vec::new();
    run_replay(blocks[0].as_bytes(), &mut out).expect("the README script is well formed");
    assert_eq!(String::from_utf8(out).unwrap(), blocks[1]);
}
