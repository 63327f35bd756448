//! File names as the repository knows them. GitHub code scanning, the annotations and GitLab's
//! Code Quality widget drop a finding whose path is not a file of the repository, so every report
//! that points at a file names it relative to the repository root (`GITHUB_WORKSPACE`,
//! `CI_PROJECT_DIR`, else the nearest directory above the working directory holding `.git`),
//! with `.` and `..` resolved and `/` separators, whatever the working directory and however
//! `--source-dir` was given.

use std::path::{Component, Path, PathBuf};

/// The repository root: the CI's checkout, else the git top level above `cwd`. `None`: not in a
/// repository (paths are then relative to `cwd` where they are under it).
pub fn root(cwd: &Path) -> Option<PathBuf> {
    for var in ["GITHUB_WORKSPACE", "CI_PROJECT_DIR"] {
        if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return Some(normalize(&cwd.join(dir)));
        }
    }
    // `.git` is a directory, or a file in worktrees and submodules.
    cwd.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `a/./b/../c` → `a/c`, without touching the file system (a symlinked checkout keeps the
/// names the CI gave). `..` above the start is kept.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` (relative to `cwd`, or absolute) relative to `base`, when it is under it.
fn under(path: &Path, cwd: &Path, base: &Path) -> Option<String> {
    let abs = normalize(&cwd.join(path));
    if let Ok(rel) = abs.strip_prefix(normalize(base)) {
        return Some(slashes(rel));
    }
    // The two may name one directory through different links (/tmp and /private/tmp).
    let (abs, base) = (abs.canonicalize().ok()?, base.canonicalize().ok()?);
    abs.strip_prefix(base).ok().map(slashes)
}

fn slashes(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// How reports name `path`: relative to the repository root when it is in the repository (or,
/// outside any repository, relative to `cwd` when under it); `None` when it is outside.
pub fn in_repo(path: &Path, cwd: &Path, root: Option<&Path>) -> Option<String> {
    under(path, cwd, root.unwrap_or(cwd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("live/../modules/sg/main.tf")),
            PathBuf::from("modules/sg/main.tf")
        );
        assert_eq!(normalize(Path::new("./a/./b.tf")), PathBuf::from("a/b.tf"));
        assert_eq!(
            normalize(Path::new("/repo/infra/../x.tf")),
            PathBuf::from("/repo/x.tf")
        );
        assert_eq!(normalize(Path::new("../up.tf")), PathBuf::from("../up.tf"));
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
    }

    #[test]
    fn paths_are_named_from_the_repository_root() {
        let root = Path::new("/repo");
        let infra = Path::new("/repo/infra");
        // `working-directory: infra` with `--source-dir .`.
        assert_eq!(
            in_repo(Path::new("./main.tf"), infra, Some(root)).as_deref(),
            Some("infra/main.tf")
        );
        // A local module reached through `..`.
        assert_eq!(
            in_repo(Path::new("live/../modules/sg/main.tf"), infra, Some(root)).as_deref(),
            Some("infra/modules/sg/main.tf")
        );
        assert_eq!(
            in_repo(Path::new("../modules/sg/main.tf"), infra, Some(root)).as_deref(),
            Some("modules/sg/main.tf")
        );
        // An absolute --source-dir.
        assert_eq!(
            in_repo(
                Path::new("/repo/infra/net/main.tf"),
                Path::new("/elsewhere"),
                Some(root)
            )
            .as_deref(),
            Some("infra/net/main.tf")
        );
        // A state in the runner's temporary directory is not in the repository.
        assert_eq!(
            in_repo(Path::new("/runner/_temp/state.json"), infra, Some(root)),
            None
        );
        assert_eq!(
            in_repo(Path::new("../../etc/passwd"), infra, Some(root)),
            None
        );
        // Outside any repository: relative to the working directory, as before.
        assert_eq!(
            in_repo(Path::new("./main.tf"), infra, None).as_deref(),
            Some("main.tf")
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_same_directory_through_a_link_is_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir_all(real.join("infra")).unwrap();
        std::fs::write(real.join("infra/main.tf"), "").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(
            in_repo(&real.join("infra/main.tf"), dir.path(), Some(&link)).as_deref(),
            Some("infra/main.tf")
        );
    }
}
