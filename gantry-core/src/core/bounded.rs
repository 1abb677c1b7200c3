//! Reading files named by users without trusting them: only regular files
//! (a path to `/dev/zero` or a FIFO would read forever or block), and at
//! most a known size (a 23 GB read is refused with the limit, not tried).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The most gantry reads of a stack, policy, variable or template file.
pub const TEXT_LIMIT: u64 = 8 << 20;
/// The most gantry reads of a deployable artifact (Lambda takes zips of
/// at most 50 MB uploaded directly).
pub const ARTIFACT_LIMIT: u64 = 64 << 20;

/// Reads `path` whole if it is a regular file of at most `limit` bytes;
/// the error says which rule it broke.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory" } else { "not a regular file (a device, pipe or socket)" };
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("it is {what}")));
    }
    let too_big = |n: u64| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("it is {} MB; gantry reads at most {} MB here", n.div_ceil(1 << 20), limit >> 20))
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    // The file may grow between the check and the read: read one byte past the limit at most.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Where files named by stack files (policy and var files, `file()`,
/// `templatefile()`, artifacts, the stack files themselves) may be read
/// from: inside the repository that holds the stack. `gantry plan` runs on
/// pull requests whose files an attacker wrote: an absolute path, a `..`
/// out or a symlink out would otherwise put `/proc/self/environ` or a
/// credentials file into a plan, an error message or a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRoot(Option<PathBuf>);

impl ReadRoot {
    /// The repository of `stack_dir`: the nearest ancestor holding `.git`
    /// (a directory, or a file in a worktree), else the stack directory.
    /// `anywhere` (`--allow-outside-files`) lifts the rule for local use.
    pub fn for_stack(stack_dir: &Path, anywhere: bool) -> ReadRoot {
        if anywhere {
            return ReadRoot(None);
        }
        let dir = std::fs::canonicalize(stack_dir).unwrap_or_else(|_| stack_dir.to_path_buf());
        let root = dir.ancestors().find(|a| a.join(".git").exists()).unwrap_or(&dir).to_path_buf();
        ReadRoot(Some(root))
    }

    /// The directory reads are confined to (None: anywhere).
    pub fn root(&self) -> Option<&Path> {
        self.0.as_deref()
    }

    /// `path` with every symlink and `..` resolved, if that is inside.
    pub fn check(&self, path: &Path) -> std::io::Result<PathBuf> {
        let Some(root) = &self.0 else { return Ok(path.to_path_buf()) };
        let real = std::fs::canonicalize(path)?;
        if real.starts_with(root) {
            Ok(real)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "it is outside the repository ({}): gantry reads only files inside it, so a pull request cannot make a plan read the runner's files (--allow-outside-files lifts this for local use)",
                    root.display()
                ),
            ))
        }
    }
}

/// [`read_limited`] of a file that must be inside `root`.
pub fn read_inside(path: &Path, limit: u64, root: &ReadRoot) -> std::io::Result<Vec<u8>> {
    // The resolved path is what is read: a link swapped after the check
    // does not redirect the read.
    read_limited(&root.check(path)?, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stay_inside_the_repository() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        let stack = repo.path().join("stacks/ci");
        std::fs::create_dir_all(&stack).unwrap();
        std::fs::write(repo.path().join("policies.json"), "{}").unwrap();
        let root = ReadRoot::for_stack(&stack, false);
        assert_eq!(root.root(), Some(std::fs::canonicalize(repo.path()).unwrap().as_path()));
        // Up and back inside the repository is fine.
        assert!(read_inside(&stack.join("../../policies.json"), TEXT_LIMIT, &root).is_ok());
        // Absolute paths, `..` out and symlinks out are refused with the reason.
        let elsewhere = tempfile::tempdir().unwrap();
        let secret = elsewhere.path().join("credentials");
        std::fs::write(&secret, "k").unwrap();
        let dotdot = stack.join(format!("../../../../../../../..{}", secret.display()));
        for outside in [secret.clone(), dotdot] {
            let e = read_inside(&outside, TEXT_LIMIT, &root).unwrap_err().to_string();
            assert!(e.contains("outside the repository"), "{e}");
        }
        std::os::unix::fs::symlink(&secret, stack.join("leak.json")).unwrap();
        assert!(read_inside(&stack.join("leak.json"), TEXT_LIMIT, &root).unwrap_err().to_string().contains("outside the repository"));
        // A symlink inside the repository to a file inside it is followed.
        std::os::unix::fs::symlink(repo.path().join("policies.json"), stack.join("p.json")).unwrap();
        assert!(read_inside(&stack.join("p.json"), TEXT_LIMIT, &root).is_ok());
        // The opt-out reads anywhere; without a .git the stack directory is the root.
        assert!(read_inside(&secret, TEXT_LIMIT, &ReadRoot::for_stack(&stack, true)).is_ok());
        let bare = tempfile::tempdir().unwrap();
        assert_eq!(ReadRoot::for_stack(bare.path(), false).root(), Some(std::fs::canonicalize(bare.path()).unwrap().as_path()));
    }

    #[test]
    fn devices_directories_and_oversized_files_are_refused_with_the_reason() {
        let e = read_limited(Path::new("/dev/zero"), TEXT_LIMIT).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        assert!(read_limited(dir.path(), TEXT_LIMIT).unwrap_err().to_string().contains("a directory"));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 3 << 20]).unwrap();
        let e = read_limited(&big, 2 << 20).unwrap_err().to_string();
        assert!(e.contains("3 MB") && e.contains("at most 2 MB"), "{e}");
        assert_eq!(read_limited(&big, 4 << 20).unwrap().len(), 3 << 20);
    }
}
