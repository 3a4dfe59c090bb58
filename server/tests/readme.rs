//! README.md's console transcripts, run: every ```console block is replayed in order, in one
//! scratch directory, with the `mcp-train` just built first on `PATH`, and each command's output
//! must be what the README shows. A README that no longer tells the truth fails here.
//!
//! Why not `trycmd`: the README is one walk-through, not a set of independent cases. Its commands
//! use files that earlier blocks made (`export.json`, `model.json`, the registry), set
//! `SOURCE_DATE_EPOCH=…` in front of a command, pipe (`head`), redirect (`> scores.csv`) and
//! change directory (`unzip … && cd …`). trycmd runs each command without a shell and would need
//! a `README.in/` sandbox folder at the repository root. This runner is a shell per command
//! (`sh -c`), so a transcript reads exactly as a person would type it.
//!
//! The format, for whoever edits the README:
//! - In a ```console block, a line starting with `$ ` is a command; the lines after it, up to the
//!   next command, are its output (standard output and standard error, interleaved as a terminal
//!   shows them). Every command must exit 0, except those listed in [`EXPECTED_FAILURES`].
//! - In an output line, `[..]` stands for any text within the line (timings, sizes, hashes); a
//!   line that is just `...` stands for any number of lines, none included.
//! - A file the walk-through needs but no command makes is shown in the README as a code block
//!   right after a `<!-- file: NAME -->` line (invisible on a rendered page); it is written into
//!   the scratch directory before the first block runs.
//! - A block is only left out when a tool it needs (`unzip`, `python3`) is missing on this
//!   machine; the test says so on stderr. No block is skipped for any other reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Commands the README shows failing on purpose, and the exit code they must end with.
const EXPECTED_FAILURES: &[(&str, i32)] = &[
    // The invalid-export example: exit 1 means "the input is invalid" (README, command line).
    ("mcp-train validate broken.json", 1),
];

/// Programs the transcripts may call that are not `mcp-train` nor shell built-ins; a block that
/// needs one that is missing here is skipped, with a note.
const OPTIONAL_TOOLS: &[&str] = &["unzip", "python3", "head"];

/// One ```console block.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    /// Line of the opening fence in README.md, 1-based.
    line: usize,
    steps: Vec<Step>,
}

/// One `$ ` command of a block and the output shown under it.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The README's ```console blocks and its `<!-- file: NAME -->` files, in order.
fn parse(readme: &str) -> (Vec<Block>, Vec<(String, String)>) {
    let mut blocks = Vec::new();
    let mut files = Vec::new();
    let mut lines = readme.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(name) = trimmed
            .strip_prefix("<!-- file:")
            .and_then(|rest| rest.strip_suffix("-->"))
        {
            let fence = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
            assert!(
                fence.starts_with("```"),
                "README.md:{}: `<!-- file: … -->` must be followed by a code block",
                i + 1
            );
            let mut body = String::new();
            for (_, l) in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            files.push((name.trim().to_owned(), body));
            continue;
        }
        if trimmed != "```console" {
            continue;
        }
        let mut block = Block {
            line: i + 1,
            steps: Vec::new(),
        };
        for (j, l) in lines.by_ref() {
            if l.trim() == "```" {
                break;
            }
            if let Some(command) = l.strip_prefix("$ ") {
                block.steps.push(Step {
                    line: j + 1,
                    command: command.to_owned(),
                    expected: Vec::new(),
                });
            } else {
                let step = block.steps.last_mut().unwrap_or_else(|| {
                    panic!(
                        "README.md:{}: a console block must start with a `$ ` command",
                        j + 1
                    )
                });
                step.expected.push(l.trim_end().to_owned());
            }
        }
        blocks.push(block);
    }
    (blocks, files)
}

/// Whether `line` matches `pattern`, where `[..]` in the pattern stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    // Each middle part at its first occurrence leaves the most room for the others.
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether the output lines match the expected lines (`...` lines stand for any lines).
fn output_matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line_matches(first, line) && output_matches(rest, more)),
    }
}

/// The programs a shell command line runs: the first word of each part between `&&`, `||`,
/// `|` and `;`, after any `NAME=value` assignments.
fn programs(command: &str) -> Vec<String> {
    let command = command.split(" #").next().unwrap_or_default();
    command
        .split(['|', ';', '&'])
        .filter_map(|part| {
            part.split_whitespace()
                .find(|word| !word.contains('='))
                .map(str::to_owned)
        })
        .collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Runs one command line with `sh` in `cwd`; returns (exit code, output, the directory the
/// command ended in).
fn run(
    command: &str,
    cwd: &Path,
    path: &std::ffi::OsStr,
    scratch: &Path,
) -> (i32, String, PathBuf) {
    let log = scratch.join("output.log");
    let cwd_file = scratch.join("cwd");
    let out = std::fs::File::create(&log).expect("creates the output log");
    let err = out.try_clone().expect("clones the output log");
    let script = format!(
        "{command}\n__readme_status=$?\npwd > '{}'\nexit $__readme_status\n",
        cwd_file.display()
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env("PATH", path)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MCP_TRAIN_DATA")
        .env_remove("MCP_TRAIN_TOKEN")
        .env_remove("MCP_TRAIN_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .expect("runs sh");
    let output =
        String::from_utf8_lossy(&std::fs::read(&log).expect("reads the output log")).into_owned();
    let ended_in = std::fs::read_to_string(&cwd_file)
        .map(|s| PathBuf::from(s.trim_end()))
        .unwrap_or_else(|_| cwd.to_path_buf());
    (status.code().unwrap_or(-1), output, ended_in)
}

#[test]
fn readme_console_transcripts_run_as_shown() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("reads README.md");
    let (blocks, files) = parse(&readme);
    assert!(
        blocks.len() >= 10,
        "README.md has {} console blocks; did the fence change?",
        blocks.len()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let scratch = tempfile::tempdir().expect("tempdir");
    // `mcp-train` on PATH is the binary under test, whatever else is installed.
    let bin = scratch.path().join("bin");
    std::fs::create_dir(&bin).expect("creates bin/");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mcp-train"), bin.join("mcp-train"))
        .expect("links mcp-train");
    let mut path = vec![bin];
    if let Some(system) = std::env::var_os("PATH") {
        path.extend(std::env::split_paths(&system));
    }
    let path = std::env::join_paths(path).expect("PATH");
    for (name, body) in &files {
        std::fs::write(dir.path().join(name), body).expect("writes a README file");
    }

    let mut failures = Vec::new();
    let mut ran = 0;
    'blocks: for block in &blocks {
        let missing: Vec<String> = block
            .steps
            .iter()
            .flat_map(|s| programs(&s.command))
            .filter(|p| OPTIONAL_TOOLS.contains(&p.as_str()) && !on_path(p))
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "README.md:{}: block not run, {} not installed here",
                block.line,
                missing.join(", ")
            );
            continue;
        }
        // Each block starts where the walk-through stands: the scratch directory.
        let mut cwd = dir.path().to_path_buf();
        for step in &block.steps {
            let (code, output, ended_in) = run(&step.command, &cwd, &path, scratch.path());
            ran += 1;
            cwd = ended_in;
            let expected_code = EXPECTED_FAILURES
                .iter()
                .find(|(c, _)| *c == step.command)
                .map_or(0, |(_, code)| *code);
            let lines: Vec<&str> = output.lines().map(str::trim_end).collect();
            if code != expected_code || !output_matches(&step.expected, &lines) {
                failures.push(format!(
                    "README.md:{}: `$ {}` exited {code} (README expects {expected_code})\n\
                     --- README shows:\n{}\n--- it printed:\n{}",
                    step.line,
                    step.command,
                    step.expected.join("\n"),
                    output.trim_end()
                ));
                // Later commands of this block build on this one.
                continue 'blocks;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} README transcript(s) differ from what the commands print:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran > 0, "no README command ran");
}

#[test]
fn readme_wildcards_match_what_they_say_and_nothing_more() {
    assert!(line_matches(
        "trained in [..] s (seed 42)",
        "trained in 0.20 s (seed 42)"
    ));
    assert!(line_matches("[..]", "anything"));
    assert!(line_matches("a [..] b [..] c", "a 1 b 2 c"));
    assert!(!line_matches(
        "trained in [..] s (seed 42)",
        "trained in 0.20 s (seed 7)"
    ));
    assert!(!line_matches("exact", "exact but longer"));
    assert!(!line_matches("a[..]b[..]b", "ab"));

    let expected = |lines: &[&str]| lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    assert!(output_matches(
        &expected(&["a", "...", "z"]),
        &["a", "b", "c", "z"]
    ));
    assert!(output_matches(&expected(&["a", "...", "z"]), &["a", "z"]));
    assert!(output_matches(&expected(&["a", "..."]), &["a"]));
    assert!(!output_matches(&expected(&["a", "...", "z"]), &["a", "b"]));
    assert!(!output_matches(&expected(&["a"]), &["a", "extra line"]));
    assert!(!output_matches(&expected(&[]), &["unexpected output"]));
}

#[test]
fn readme_parser_reads_commands_outputs_and_files() {
    let text = "intro\n```console\n$ mcp-train synth --out e.json\nwrote e.json\n$ head -1 e.json\n{\n```\n\n<!-- file: broken.json -->\n```json\n{\"data\": []}\n```\n";
    let (blocks, files) = parse(text);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].line, 2);
    assert_eq!(blocks[0].steps.len(), 2);
    assert_eq!(blocks[0].steps[0].command, "mcp-train synth --out e.json");
    assert_eq!(blocks[0].steps[0].expected, ["wrote e.json"]);
    assert_eq!(blocks[0].steps[1].line, 5);
    assert_eq!(blocks[0].steps[1].expected, ["{"]);
    assert_eq!(
        files,
        [("broken.json".to_owned(), "{\"data\": []}\n".to_owned())]
    );
    assert_eq!(
        programs("SOURCE_DATE_EPOCH=1 mcp-train train x && cd d | head -3 # or unzip"),
        ["mcp-train", "cd", "head"]
    );
}
