//! What is generated from the command line's own definition: shell completions
//! (`token-inspector completions bash|zsh|fish|elvish|powershell`) and the man page
//! (`token-inspector man`), so neither can drift from the flags the binary accepts.

use clap::CommandFactory as _;

use super::{Cli, Exit};

/// `completions SHELL`: print the completion script for a shell.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `man`: print the man page (roff) of the command line and its subcommands.
#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// Prints the completion script on stdout.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "token-inspector", &mut out);
    out!("{}", String::from_utf8_lossy(&out));
    Ok(Exit::Ok)
}

/// Prints the man page on stdout: the top page, then one section per subcommand.
pub fn man(_args: &ManArgs) -> anyhow::Result<Exit> {
    out!("{}", String::from_utf8_lossy(&man_page()?));
    Ok(Exit::Ok)
}

/// The whole man page: `token-inspector(1)` with every subcommand's usage and flags.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let command = Cli::command();
    let mut out = Vec::new();
    let top = clap_mangen::Man::new(command.clone());
    top.render_title(&mut out)?;
    top.render_name_section(&mut out)?;
    top.render_synopsis_section(&mut out)?;
    top.render_description_section(&mut out)?;
    top.render_subcommands_section(&mut out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("token-inspector {}", sub.get_name());
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let page = clap_mangen::Man::new(sub.clone().bin_name(name));
        page.render_synopsis_section(&mut out)?;
        page.render_description_section(&mut out)?;
        page.render_options_section(&mut out)?;
    }
    top.render_version_section(&mut out)?;
    Ok(out)
}
