//! `dynasim plot`: every chart a run's or sweep's folder supports.

use crate::error::Error;
use clap::{Args, ValueHint};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct PlotArgs {
    /// A folder written by `dynasim run` or `dynasim sweep`.
    #[arg(value_hint = ValueHint::DirPath)]
    dir: PathBuf,
}

pub(super) fn plot(args: PlotArgs) -> Result<ExitCode, Error> {
    let charts = crate::report::charts::plot_folder(&args.dir)?;
    println!("{} charts, index.html and summary.md in {}", charts.len(), args.dir.display());
    Ok(ExitCode::SUCCESS)
}
