//! The README's "Test your own registry" snippet is the example crate's real test file, so the
//! snippet cannot drift from code that compiles and passes.

#[test]
fn readme_shows_the_example_test_file_verbatim() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let test_file = std::fs::read_to_string(format!(
        "{root}/examples/delegating-registry/tests/conformance.rs"
    ))
    .expect("example test file");
    assert!(
        readme.contains(&format!("```rust\n{test_file}```")),
        "README.md must show examples/delegating-registry/tests/conformance.rs verbatim"
    );
}

#[test]
fn readme_gives_both_fresh_machine_commands() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    assert!(readme.contains("\ncargo test\n"), "the test command");
    assert!(readme.contains("\ncargo run --release"), "the main job");
}
