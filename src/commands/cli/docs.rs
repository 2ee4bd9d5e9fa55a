//! `dynasim completions`, `manpage` and `schema`: the tool describing itself, generated from
//! the same definitions that parse its command line and its scenario files.

use super::Cli;
use crate::error::Error;
use crate::scenario::{self};
use clap::{Args, CommandFactory, ValueHint};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub(super) struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_hint = ValueHint::Other)]
    shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub(super) struct ManpageArgs {
    /// Write dynasim.1 and a page per command (dynasim-run.1, ...) into this folder instead of
    /// printing the top-level page.
    #[arg(value_hint = ValueHint::DirPath, long)]
    out_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(super) struct SchemaArgs {
    /// Print the reference of every scenario field in Markdown instead of the JSON Schema.
    #[arg(long)]
    markdown: bool,
}

/// The commands whose first argument is a file or folder, which bash should complete as one.
const PATH_COMMANDS: [&str; 8] = ["run", "check", "sweep", "merge", "plot", "shrink", "explain", "explore"];

pub(super) fn completions(args: CompletionsArgs) -> Result<ExitCode, Error> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "dynasim", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if args.shell == clap_complete::Shell::Bash {
        script = bash_completes_paths(&script);
    }
    print!("{script}");
    Ok(ExitCode::SUCCESS)
}

/// clap_complete's bash script offers only option names where a command's first argument goes,
/// and nothing for later ones. For the commands that take paths, complete a word that is not an
/// option as a file name (zsh and fish follow the value hints already).
fn bash_completes_paths(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    let mut in_path_command = false;
    let mut after_case = false;
    for line in script.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("dynasim__subcmd__").and_then(|l| l.strip_suffix(')')) {
            in_path_command = PATH_COMMANDS.contains(&name);
            after_case = false;
        }
        let mut line = line.to_string();
        if in_path_command {
            if trimmed == "if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then" {
                line = line.replace(" || ${COMP_CWORD} -eq 2", "");
            }
            if trimmed == "esac" {
                after_case = true;
            } else if after_case && trimmed == "COMPREPLY=( $(compgen -W \"${opts}\" -- \"${cur}\") )" {
                line = line.replace("$(compgen -W \"${opts}\" -- \"${cur}\")", "$(compgen -f -- \"${cur}\")");
                after_case = false;
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

pub(super) fn manpage(args: ManpageArgs) -> Result<ExitCode, Error> {
    let render = |cmd: clap::Command, name: &str| -> Result<Vec<u8>, Error> {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut page).map_err(|e| Error::io("render the man page", Path::new(name), e))?;
        Ok(page)
    };
    let top = Cli::command();
    let Some(dir) = args.out_dir else {
        let page = render(top, "dynasim.1")?;
        std::io::Write::write_all(&mut std::io::stdout(), &page)
            .map_err(|e| Error::io("write the man page", Path::new("stdout"), e))?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create the man page folder", &dir, e))?;
    let mut pages = vec![("dynasim.1".to_string(), render(top.clone(), "dynasim.1")?)];
    for sub in top.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("dynasim-{}", sub.get_name());
        let cmd = sub.clone().name(name.clone()).version(top.get_version().unwrap_or_default().to_string());
        pages.push((format!("{name}.1"), render(cmd, &name)?));
    }
    for (file, page) in &pages {
        crate::report::folder::write_file(&dir.join(file), page)?;
    }
    println!("{} man pages in {}", pages.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

pub(super) fn schema(args: SchemaArgs) -> Result<ExitCode, Error> {
    if args.markdown {
        print!("{}", scenario::reference_markdown());
    } else {
        println!("{}", serde_json::to_string_pretty(&scenario::json_schema()).unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}
