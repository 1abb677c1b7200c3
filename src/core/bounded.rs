//! Reading files named by users without trusting them: only regular files
//! (a path to `/dev/zero` or a FIFO would read forever or block), and at
//! most a known size (a 23 GB read is refused with the limit, not tried).

use std::io::Read;
use std::path::Path;

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

#[cfg(test)]
mod tests {
    use super::*;

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
