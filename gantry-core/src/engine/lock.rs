//! The local lock: `.gantry/lock` in the stack directory, created
//! atomically, holding who/when/what, so two applies cannot run at once.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What a lock file records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    /// Random id (`force-unlock ID`).
    pub id: String,
    /// The command that holds it (`apply`).
    pub operation: String,
    /// The holder's process id.
    pub pid: u32,
    /// The holder's host name.
    pub host: String,
    /// The holder's user name.
    pub user: String,
    /// When it was taken (RFC 3339).
    pub created: String,
}

impl LockInfo {
    /// A new lock record for this process.
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: format!("{:016x}", fastrand::u64(..)),
            operation: operation.to_string(),
            pid: std::process::id(),
            host: hostname(),
            user: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        }
    }

    /// A placeholder for a lock whose record cannot be read.
    pub fn unknown() -> LockInfo {
        LockInfo { id: "unknown".into(), operation: "unknown".into(), pid: 0, host: "unknown".into(), user: "unknown".into(), created: "unknown".into() }
    }
}

/// Lock errors.
#[derive(Debug, Error)]
pub enum LockError {
    #[error("the stack is locked by {} (pid {} on {}, {} since {}), lock id {}{}", .0.user, .0.pid, .0.host, .0.operation, .0.created, .0.id, if *.1 { "; it looks stale (that process is gone or the lock is hours old)" } else { "" })]
    /// The holder (boxed: errors stay small on the happy path) and whether it looks stale.
    Held(Box<LockInfo>, bool),
    /// Unlocking found no lock.
    #[error("no lock is held")]
    NotLocked,
    /// `force-unlock` was given another id than the lock's.
    #[error("lock id {given} does not match the held lock {held}")]
    WrongId {
        /// The id given.
        given: String,
        /// The held lock's id.
        held: String,
    },
    /// The lock file could not be read or written.
    #[error("lock file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct LockGuard {
    path: PathBuf,
    /// What the lock records.
    pub info: LockInfo,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Path of the lock file for a stack directory.
pub fn lock_path(dir: &Path) -> PathBuf {
    dir.join(".gantry").join("lock")
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "unknown".into())
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// How old a lock may get before it is called stale (an apply that takes
/// longer is possible but rare; the holder's own host also checks its pid).
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

/// Whether a held lock looks abandoned: its process is gone (same host) or
/// it is older than [`STALE_AFTER`].
pub fn looks_stale(held: &LockInfo) -> bool {
    let gone = held.host == hostname() && held.pid != 0 && !process_alive(held.pid);
    let old =
        humantime::parse_rfc3339(&held.created).ok().and_then(|t| std::time::SystemTime::now().duration_since(t).ok()).is_some_and(|age| age > STALE_AFTER);
    gone || old
}

/// Reads the current lock, if any. A lock file whose record cannot be
/// read (empty, cut short, edited) is still a lock: its id is `unknown`,
/// which `force-unlock unknown` removes.
pub fn read(dir: &Path) -> Result<Option<LockInfo>, LockError> {
    let path = lock_path(dir);
    // A lock is a small regular file: a pipe or a device put in its place
    // would block or never end; it is refused, with the way out.
    match crate::core::bounded::read_limited(&path, 64 << 10) {
        Ok(t) => Ok(Some(serde_json::from_slice(&t).unwrap_or_else(|_| LockInfo::unknown()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            Err(LockError::Io(path.clone(), std::io::Error::new(e.kind(), format!("{e}; a lock is a file gantry writes: remove it (rm {})", path.display()))))
        }
        Err(e) => Err(LockError::Io(path, e)),
    }
}

/// Takes the lock for `operation`, or says who holds it.
pub fn acquire(dir: &Path, operation: &str) -> Result<LockGuard, LockError> {
    let path = lock_path(dir);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LockError::Io(parent.to_path_buf(), e))?;
    }
    let info = LockInfo::new(operation);
    // Written whole to a private file first, then linked into place: the
    // link is atomic and fails if a lock exists, so nobody ever reads a
    // lock file that is still empty.
    let tmp = path.with_file_name(format!("lock.{}.{}", std::process::id(), info.id));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(serde_json::to_string_pretty(&info).unwrap_or_default().as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(LockError::Io(tmp, e));
    }
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(LockGuard { path, info }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let held = read(dir)?.unwrap_or_else(LockInfo::unknown);
            let stale = looks_stale(&held);
            Err(LockError::Held(Box::new(held), stale))
        }
        Err(e) => Err(LockError::Io(path, e)),
    }
}

/// Removes the lock if its id matches.
pub fn force_unlock(dir: &Path, id: &str) -> Result<LockInfo, LockError> {
    let held = read(dir)?.ok_or(LockError::NotLocked)?;
    if held.id != id {
        return Err(LockError::WrongId { given: id.to_string(), held: held.id });
    }
    let path = lock_path(dir);
    std::fs::remove_file(&path).map_err(|e| LockError::Io(path, e))?;
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let g = acquire(dir.path(), "apply").unwrap();
        match acquire(dir.path(), "apply") {
            Err(LockError::Held(info, stale)) => {
                assert_eq!(info.id, g.info.id);
                assert!(!stale, "our own pid is alive");
            }
            other => panic!("expected Held, got {other:?}"),
        }
        drop(g);
        assert!(acquire(dir.path(), "apply").is_ok());
    }

    #[test]
    fn force_unlock_checks_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let g = acquire(dir.path(), "apply").unwrap();
        let id = g.info.id.clone();
        std::mem::forget(g);
        assert!(matches!(force_unlock(dir.path(), "nope"), Err(LockError::WrongId { .. })));
        assert_eq!(force_unlock(dir.path(), &id).unwrap().id, id);
        assert!(matches!(force_unlock(dir.path(), &id), Err(LockError::NotLocked)));
    }

    #[test]
    fn a_lock_is_whole_when_seen_and_a_corrupt_one_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let g = acquire(dir.path(), "apply").unwrap();
        let text = std::fs::read_to_string(lock_path(dir.path())).unwrap();
        assert!(serde_json::from_str::<LockInfo>(&text).is_ok(), "written before it appears: {text}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join(".gantry")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, ["lock"], "no temporary file left behind");
        drop(g);
        std::fs::write(lock_path(dir.path()), "").unwrap();
        match acquire(dir.path(), "apply") {
            Err(LockError::Held(info, _)) => assert_eq!(info.id, "unknown"),
            other => panic!("an empty lock file is still a lock: {other:?}"),
        }
        assert_eq!(force_unlock(dir.path(), "unknown").unwrap().id, "unknown");
        assert!(acquire(dir.path(), "apply").is_ok());
    }

    /// A pipe or device in the lock's place would block acquire and
    /// force-unlock forever: both refuse it at once and say how to clear it.
    #[test]
    fn a_pipe_in_the_locks_place_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".gantry")).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(lock_path(dir.path())).status().unwrap().success());
        let started = std::time::Instant::now();
        let e = format!("{:?}", acquire(dir.path(), "apply").map(|_| ()).unwrap_err());
        assert!(e.contains("not a regular file") && e.contains("rm "), "{e}");
        let e = format!("{:?}", force_unlock(dir.path(), "unknown").map(|_| ()).unwrap_err());
        assert!(e.contains("not a regular file"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn a_lock_older_than_two_hours_looks_stale() {
        let mut info = LockInfo::new("apply");
        assert!(!looks_stale(&info), "fresh, and our pid is alive");
        info.created = humantime::format_rfc3339_seconds(std::time::SystemTime::now() - STALE_AFTER - std::time::Duration::from_secs(60)).to_string();
        info.host = "another-host".into();
        assert!(looks_stale(&info));
    }
}
