//! The README's promises: its test command is the one CI runs; its demo parents exist.

const README: &str = include_str!("../README.md");
const CI: &str = include_str!("../.ci/run");

/// The first command of the fenced block that follows the line naming it.
fn command_after(marker: &str) -> &'static str {
    let start = README
        .find(marker)
        .unwrap_or_else(|| panic!("README has {marker:?}"));
    let block = &README[start..];
    let open = block.find("```sh\n").expect("a sh block") + 6;
    block[open..].lines().next().unwrap()
}

#[test]
fn ci_runs_exactly_the_readme_test_command() {
    let command = command_after("Run the tests");
    assert!(command.contains("cargo test"), "{command}");
    let last = CI.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert_eq!(last, command);
}

#[test]
fn quick_start_is_two_commands() {
    assert_eq!(command_after("Try it"), "cargo run --release -- demo");
}

#[test]
fn the_demo_parents_in_the_readme_are_the_demo_data() {
    for parent in kabinet::demo::parents() {
        assert!(README.contains(&parent.iin), "README lists {}", parent.iin);
    }
}
