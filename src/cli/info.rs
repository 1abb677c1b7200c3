//! `gantry version`, `gantry completions SHELL`, `gantry man`: facts about
//! the tool itself, generated from the same clap definition as the parser.

use super::{Cli, EXIT_ERROR, EXIT_OK};
use crate::ops::bundled_scaler as bundled;
use clap::CommandFactory;

pub(super) fn version(json: bool) -> i32 {
    let platform = format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH);
    if json {
        let zips = ["arm64", "x86_64"].map(bundled::zip_name);
        let v = serde_json::json!({
            "version": crate::VERSION,
            "platform": platform,
            "scaler_source": bundled::SOURCE_HASH,
            "scaler_zips": zips,
        });
        crate::outln!("{v:#}");
    } else {
        crate::outln!("gantry {} ({platform}; scaler sources {})", crate::VERSION, bundled::SOURCE_HASH);
    }
    EXIT_OK
}

pub(super) fn completions(shell: clap_complete::Shell) -> i32 {
    clap_complete::generate(shell, &mut Cli::command(), "gantry", &mut std::io::stdout());
    EXIT_OK
}

pub(super) fn man() -> i32 {
    match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            crate::errln!("error: cannot write the man page: {e}");
            EXIT_ERROR
        }
    }
}
