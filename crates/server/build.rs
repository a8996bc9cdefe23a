//! Captures the commit being built as `TESSERA_GIT_COMMIT` (for `tessera_build_info`): the
//! environment variable of that name when set to a commit-like value (a build without the git
//! history, such as a container build, passes it in), else `git rev-parse HEAD`, else
//! `unknown` — a build outside a git checkout, or without git, never fails. The script runs
//! again only when HEAD or the branch it names moves, so other builds stay incremental.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// A commit id as a label may carry it: hex, 7 to 64 characters.
fn commit_like(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TESSERA_GIT_COMMIT");
    let given = std::env::var("TESSERA_GIT_COMMIT")
        .ok()
        .filter(|c| commit_like(c));
    let commit = given.clone().or_else(|| {
        let head = git(&["rev-parse", "--short=12", "HEAD"])?;
        commit_like(&head).then_some(head)
    });
    if given.is_none() && commit.is_some() {
        if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
            watch(&PathBuf::from(dir).join("HEAD"));
        }
        if let (Some(common), Some(branch)) = (
            git(&["rev-parse", "--git-common-dir"]),
            git(&["symbolic-ref", "-q", "HEAD"]),
        ) {
            let common = PathBuf::from(common);
            watch(&common.join(branch));
            watch(&common.join("packed-refs"));
        }
    }
    println!(
        "cargo:rustc-env=TESSERA_GIT_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}
