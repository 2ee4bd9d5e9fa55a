//! Output files and folders: written under temporary names and renamed into place, and never
//! replacing anything dynasim did not write.
//!
//! Every folder dynasim writes (a run's, a sweep's, a merge's) carries a manifest,
//! `.dynasim.json`, naming the files dynasim put there: the data files, and the charts, page and
//! summary that `plot` drew. A folder is replaced only when it is empty or when everything in
//! it is on its manifest, and `plot` removes only the charts its manifest lists. So a user's
//! file is never deleted: an `--out` naming a folder of the user's is refused before any
//! simulation, and so is a chart that would overwrite a file of the same name.

use crate::error::Error;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The manifest's file name, inside the folder it describes.
pub const MANIFEST: &str = ".dynasim.json";

/// What made a folder, recorded in its manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    Run,
    Sweep,
    Merge,
    /// A folder dynasim did not make, into which `plot` drew charts.
    Plot,
}

impl FolderKind {
    fn name(self) -> &'static str {
        match self {
            FolderKind::Run => "run",
            FolderKind::Sweep => "sweep",
            FolderKind::Merge => "merge",
            FolderKind::Plot => "plot",
        }
    }
}

/// The files dynasim wrote into one folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    kind: String,
    /// The data files the folder was made with (report.json, results.json, ...).
    files: Vec<String>,
    /// What the latest `plot` drew: charts, index.html and summary.md.
    charts: Vec<String>,
}

impl Manifest {
    fn new(kind: FolderKind, files: Vec<String>) -> Manifest {
        Manifest { kind: kind.name().into(), files: sorted(files), charts: Vec::new() }
    }

    /// The folder's manifest, None when it has none; an unreadable one is an error, since a
    /// guess either way could delete a user's file or refuse dynasim's own.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, Error> {
        let path = dir.join(MANIFEST);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read the folder's manifest", &path, e)),
        };
        let bad = || {
            Error::Usage(format!(
                "{}: not a dynasim manifest; expected {{\"written_by\": \"dynasim\", \"kind\", \"files\", \"charts\"}}",
                path.display()
            ))
        };
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let names =
            |field: &str| -> Option<Vec<String>> { v[field].as_array()?.iter().map(|n| n.as_str().map(String::from)).collect() };
        if v["written_by"] != "dynasim" {
            return Err(bad());
        }
        Ok(Some(Manifest {
            kind: v["kind"].as_str().ok_or_else(bad)?.to_string(),
            files: names("files").ok_or_else(bad)?,
            charts: names("charts").ok_or_else(bad)?,
        }))
    }

    fn to_bytes(&self) -> Vec<u8> {
        super::to_bytes(&json!({ "written_by": "dynasim", "kind": self.kind, "files": self.files, "charts": self.charts }))
    }

    fn owns(&self, name: &str) -> bool {
        name == MANIFEST || self.files.iter().chain(&self.charts).any(|f| f == name) || is_partial(name)
    }

    /// The charts the latest `plot` drew.
    pub fn charts(&self) -> &[String] {
        &self.charts
    }

    /// Records the charts about to be drawn. Written before the first chart, so an interrupted
    /// `plot` leaves charts the manifest still owns.
    pub fn set_charts(&mut self, dir: &Path, charts: Vec<String>) -> Result<(), Error> {
        self.charts = sorted(charts);
        write_file(&dir.join(MANIFEST), &self.to_bytes())
    }

    /// The manifest `plot` starts from in a folder without one: it owns nothing there yet.
    pub fn adopting() -> Manifest {
        Manifest::new(FolderKind::Plot, Vec::new())
    }
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names
}

/// A temporary name of dynasim's own (see [`partial_beside`]), left by an interrupted command.
fn is_partial(name: &str) -> bool {
    name.starts_with('.') && name.contains(".partial")
}

/// The entries of `dir` that its manifest (or, without one, nothing) accounts for not. A folder
/// gone meanwhile (another run moving its own aside to replace it) has none.
fn foreign_entries(dir: &Path, manifest: Option<&Manifest>) -> Result<Vec<String>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list the folder", dir, e)),
    };
    let mut foreign: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !manifest.is_some_and(|m| m.owns(name)))
        .collect();
    foreign.sort();
    Ok(foreign)
}

/// A few names, for a message: "a, b, c and 4 more".
pub fn name_some(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
    match names.len().saturating_sub(3) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// Whether `dir` may be replaced whole: it does not exist, is empty, or holds only what its
/// manifest says dynasim wrote.
pub fn check_replaceable(dir: &Path) -> Result<(), Error> {
    // One look at what is there: another run may move its folder aside at any moment.
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("look at the report folder", dir, e)),
        Ok(m) if !m.is_dir() => {
            let e = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file of that name exists; expected a folder");
            return Err(Error::io("write a report folder", dir, e));
        }
        Ok(_) => {}
    }
    // Another run replacing its own folder here can show a moment with no manifest, or one
    // listing other files: a refusal is only believed when it holds on a second look.
    let mut looks = 0;
    let (manifest, foreign) = loop {
        let manifest = Manifest::read(dir)?;
        let foreign = foreign_entries(dir, manifest.as_ref())?;
        looks += 1;
        if foreign.is_empty() {
            return Ok(());
        }
        if looks == 3 {
            break (manifest, foreign);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Err(Error::Usage(match manifest {
        None => format!(
            "{}: exists and dynasim did not write it (no {MANIFEST}; it holds {}); dynasim replaces only its own \
             output folders: expected a new or empty folder for --out",
            dir.display(),
            name_some(&foreign)
        ),
        Some(_) => format!(
            "{}: holds {}, which dynasim did not write, and writing would replace the whole folder; expected them \
             moved out first, or another folder for --out",
            dir.display(),
            name_some(&foreign)
        ),
    }))
}

/// The folder `path` is in (the current one for a bare name).
fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Makes a temporary file or folder beside `path` with `make`, under tempfile's names: hidden,
/// `.<name>.<random>.partial`, so that a folder's check and a user's listing both know them for
/// dynasim's unfinished output.
fn partial_beside<R>(path: &Path, make: impl FnOnce(&tempfile::Builder, &Path) -> std::io::Result<R>) -> std::io::Result<R> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    make(&builder, folder_of(path))
}

/// A file to write beside `path` before it is renamed into place ([`persist`]): tempfile's,
/// created exclusively and removed when dropped, so every error path cleans up. Its name is
/// also remembered, because an interrupted command exits without running destructors and
/// removes what it left by name ([`remove_partials`]).
pub fn temporary_file_beside(path: &Path) -> Result<tempfile::NamedTempFile, Error> {
    let file = partial_beside(path, |b, dir| b.tempfile_in(dir)).map_err(|e| Error::io("create a file beside", path, e))?;
    remember(file.path());
    Ok(file)
}

/// Renames a finished temporary file onto `path`.
pub fn persist(file: tempfile::NamedTempFile, path: &Path) -> Result<(), Error> {
    file.persist(path).map(drop).map_err(|e| Error::io("rename into place", path, e.error))
}

/// Every temporary name this process has made.
static PARTIALS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn remember(path: &Path) {
    if let Ok(mut partials) = PARTIALS.lock() {
        partials.push(path.to_path_buf());
    }
}

/// Removes whatever is still under a temporary name this process made: called when the
/// command is interrupted (Ctrl-C, SIGTERM), so that a stopped trace or report leaves nothing
/// behind. Only names this process created are touched.
pub fn remove_partials() {
    let partials = match PARTIALS.lock() {
        Ok(p) => p.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for path in partials {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {
                let _ = std::fs::remove_dir_all(&path);
            }
            Ok(_) => {
                let _ = std::fs::remove_file(&path);
            }
            Err(_) => {}
        }
    }
}

/// Checks, before any simulation, that `dir` can become a report folder: its parent can be
/// created and written, and `dir` is new, empty, or dynasim's own (see [`check_replaceable`]).
pub fn check_folder_writable(dir: &Path) -> Result<(), Error> {
    check_replaceable(dir)?;
    check_file_writable(dir)
}

/// Checks, before any simulation, that `path`'s folder exists (or can be made) and takes files.
pub fn check_file_writable(path: &Path) -> Result<(), Error> {
    let dir = folder_of(path);
    let fail = |e| Error::io("write", path, e);
    let existed = dir.exists();
    std::fs::create_dir_all(dir).map_err(fail)?;
    // A file made and removed again (when dropped).
    let written = partial_beside(path, |b, dir| b.tempfile_in(dir)).map(drop);
    if written.is_err() && !existed {
        let _ = std::fs::remove_dir(dir);
    }
    written.map_err(fail)
}

/// Writes an output folder as a whole, with its manifest: every file goes into a fresh sibling
/// folder, which then replaces `dir` by renames. A reader sees the old folder or the new one,
/// never a mix of two runs' files, and a run stopped midway leaves only a hidden
/// `.<name>.<random>.partial`. An existing `dir` is replaced only if [`check_replaceable`].
pub fn write_folder(dir: &Path, kind: FolderKind, files: &[(&str, Vec<u8>)]) -> Result<(), Error> {
    std::fs::create_dir_all(folder_of(dir)).map_err(|e| Error::io("create the report folder", dir, e))?;
    // Removed when dropped: on every error below, and (already moved) harmlessly after success.
    let staging =
        partial_beside(dir, |b, parent| b.tempdir_in(parent)).map_err(|e| Error::io("create the report folder", dir, e))?;
    remember(staging.path());
    let manifest = Manifest::new(kind, files.iter().map(|(name, _)| name.to_string()).collect());
    files.iter().chain([&(MANIFEST, manifest.to_bytes())]).try_for_each(|(name, bytes)| {
        let path = staging.path().join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::io("write", &path, e))
    })?;
    // Checked again at the last moment: the user may have put a file there meanwhile.
    check_replaceable(dir)?;
    replace_folder(staging.path(), dir)
}

/// Moves `staging` to `dir`, moving an existing `dir` aside first and deleting it after. Another
/// process may put its own folder in place between the two renames: then this one tries again.
fn replace_folder(staging: &Path, dir: &Path) -> Result<(), Error> {
    let mut last = None;
    for _ in 0..8 {
        let old = aside_name(dir);
        let moved_aside = match std::fs::rename(dir, &old) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io("replace the report folder", dir, e)),
        };
        match std::fs::rename(staging, dir) {
            Ok(()) => {
                if moved_aside {
                    let _ = std::fs::remove_dir_all(&old);
                }
                return Ok(());
            }
            Err(e) => {
                // Put the old folder back; if another run's folder took its place, that one stays.
                if moved_aside && std::fs::rename(&old, dir).is_err() {
                    let _ = std::fs::remove_dir_all(&old);
                }
                last = Some(e);
            }
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("could not move the new folder into place"));
    Err(Error::io("rename the report folder into place", dir, e))
}

/// Writes one file atomically (a temporary file beside it, then a rename).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut file = temporary_file_beside(path)?;
    file.write_all(bytes).map_err(|e| Error::io("write", file.path(), e))?;
    persist(file, path)
}

/// A fresh name beside `dir` for the folder it replaces, moved aside until the new one is in
/// place. A name, not a folder: `rename` needs its target absent.
fn aside_name(dir: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let aside = folder_of(dir).join(format!(".{name}.{}-{n}.partial.old", std::process::id()));
    remember(&aside);
    aside
}

/// The folder name a scenario's name gives its default output: one path component of letters,
/// digits, `-`, `_` and `.`, never hidden, empty, `.` or `..` (any other character becomes `-`).
pub fn folder_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "unnamed".into()
    } else {
        cleaned.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_name_is_one_plain_path_component() {
        assert_eq!(folder_name("baseline-322_zipf.v2"), "baseline-322_zipf.v2");
        assert_eq!(folder_name(""), "unnamed");
        assert_eq!(folder_name(".."), "unnamed");
        assert_eq!(folder_name("../x"), "-x");
        assert_eq!(folder_name("/etc/passwd"), "-etc-passwd");
        assert_eq!(folder_name("a b\\c"), "a-b-c");
        assert_eq!(folder_name(".hidden"), "hidden");
    }
}
