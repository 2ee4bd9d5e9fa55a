//! `dynasim merge`: sharded sweeps combined into what one unsharded sweep writes.

use super::sweep::{parse_shard, sweep_results, write_sweep};
use crate::error::Error;
use crate::report;
use clap::{Args, ValueHint};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct MergeArgs {
    /// Folders written by `dynasim sweep --shard i/n`.
    #[arg(value_hint = ValueHint::DirPath, required = true)]
    dirs: Vec<PathBuf>,
    /// Output folder for the merged results.
    #[arg(value_hint = ValueHint::DirPath, long)]
    out: PathBuf,
}

pub(super) fn merge(args: MergeArgs) -> Result<ExitCode, Error> {
    // Writing the merge over one of its shards would replace the shard with the merge.
    if let Ok(out) = args.out.canonicalize() {
        if let Some(dir) = args.dirs.iter().find(|d| d.canonicalize().is_ok_and(|d| d == out)) {
            return Err(Error::Usage(format!(
                "--out {}: is the shard folder {}; expected a folder other than the inputs",
                args.out.display(),
                dir.display()
            )));
        }
    }
    report::check_folder_writable(&args.out)?;
    let mut rows = Vec::new();
    let mut first: Option<(serde_json::Value, Vec<u8>)> = None;
    let mut shards: Vec<(usize, usize, &Path)> = Vec::new();
    for dir in &args.dirs {
        let path = dir.join("results.json");
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Usage(format!("{}: not a sweep's results: {e}", path.display())))?;
        match &first {
            None => {
                if v["scenario_digest"].as_str().is_none() {
                    return Err(Error::Usage(format!(
                        "{}: has no scenario_digest (written by an older dynasim); expected shards from this version: \
                         rerun the sweep",
                        path.display()
                    )));
                }
                let src = dir.join("scenario.json");
                let source = std::fs::read(&src).map_err(|e| Error::io("read", &src, e))?;
                first = Some((v.clone(), source));
            }
            Some((f, _)) => {
                for key in ["scenario_digest", "scenario", "axes", "seeds"] {
                    if f[key] != v[key] {
                        return Err(Error::Usage(format!(
                            "{}: {key} differs from the first folder's (the scenario's content, axes and seeds must \
                             be the same); these are not shards of one sweep",
                            path.display()
                        )));
                    }
                }
            }
        }
        let shard = v["shard"].as_str().map(parse_shard).transpose()?.ok_or_else(|| {
            Error::Usage(format!(
                "{}: not a shard (no \"shard\": \"i/n\"); merge takes the folders of `sweep --shard i/n`",
                path.display()
            ))
        })?;
        shards.push((shard.0, shard.1, dir.as_path()));
        rows.extend(v["rows"].as_array().cloned().unwrap_or_default());
    }
    let Some((f, source)) = first else { return Err(Error::Usage("merge: no folders given".into())) };
    check_shards(&mut shards)?;
    crate::commands::sweep::sort_rows(&mut rows);
    rows.dedup();
    let axes: Vec<String> =
        f["axes"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
    let results = sweep_results(
        f["scenario"].as_str().unwrap_or(""),
        f["scenario_digest"].as_str().unwrap_or(""),
        &axes,
        &f["seeds"],
        None,
        &rows,
    );
    let dirs: Vec<String> = args.dirs.iter().map(|d| d.display().to_string()).collect();
    write_sweep(
        &args.out,
        report::FolderKind::Merge,
        &results,
        &source,
        &format!("dynasim merge {} --out {}", dirs.join(" "), args.out.display()),
        None,
    )?;
    print!("{}", report::sweep_table(&results));
    Ok(ExitCode::SUCCESS)
}

/// A merge needs every shard of one sweep once: the same n everywhere, each i from 0 to n-1.
pub(super) fn check_shards(shards: &mut [(usize, usize, &Path)]) -> Result<(), Error> {
    shards.sort_by_key(|s| s.0);
    let n = shards[0].1;
    if let Some(other) = shards.iter().find(|s| s.1 != n) {
        return Err(Error::Usage(format!(
            "{}: shard {}/{} is of a sweep cut into {} shards, the others into {n}",
            other.2.display(),
            other.0,
            other.1,
            other.1
        )));
    }
    if let Some(w) = shards.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::Usage(format!(
            "shard {}/{n} given twice ({} and {}); expected each shard once",
            w[0].0,
            w[0].2.display(),
            w[1].2.display()
        )));
    }
    // Shards are distinct and below n, so fewer than n of them means some are missing.
    if shards.len() < n {
        let missing: Vec<String> =
            (0..n).filter(|i| !shards.iter().any(|s| s.0 == *i)).take(5).map(|i| format!("{i}/{n}")).collect();
        let more = n - shards.len() - missing.len();
        return Err(Error::Usage(format!(
            "merge: {} of {n} shards given; missing {}{}; nothing was written",
            shards.len(),
            missing.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        )));
    }
    Ok(())
}
