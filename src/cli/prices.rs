//! `gantry prices update`: a price book file with today's EC2 prices, for
//! plans (`GANTRY_PRICE_FILE=FILE`) and `simulate`.

use super::output::Output;
use super::validate::load_options;
use super::{VarArgs, EXIT_ERROR, EXIT_OK};
use crate::cost::prices::PriceBook;
use crate::ops::prices_update::{update, wanted};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// Read today's EC2 on-demand prices from the AWS Price List Query API (pricing:GetProducts)
    /// for every AWS machine type of the current price book and of the given stacks' queues,
    /// and write a price book (use it with GANTRY_PRICE_FILE=FILE).
    Update {
        /// Stack directories whose queues' instance types to price too.
        dirs: Vec<PathBuf>,
        /// Where to write the price book.
        #[arg(long, short = 'o', value_name = "FILE", default_value = "gantry-prices.json")]
        out: PathBuf,
        #[command(flatten)]
        vars: VarArgs,
    },
}

pub async fn run(out: &Output, cmd: PricesCommand, stats: std::sync::Arc<crate::cloud::stats::ApiStats>) -> i32 {
    let PricesCommand::Update { dirs, out: path, vars } = cmd;
    let current = match PriceBook::current() {
        Ok(b) => b,
        Err(e) => {
            crate::errln!("{} {e}", out.err_style.red("Error:"));
            return EXIT_ERROR;
        }
    };
    let want = match wanted(&current, &dirs, &load_options(&vars)) {
        Ok(w) => w,
        Err(e) => return out.error(&e),
    };
    crate::errln!("pricing {} EC2 machine type(s) and region(s)…", want.len());
    let aws = crate::cloud::aws::AwsContext::load("us-east-1", stats).await;
    let api = aws.pricing();
    let today = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_string();
    let say = |line: String| crate::errln!("{line}");
    let updated = match update(&current, &want, &api, &today, &say).await {
        Ok(u) => u,
        Err(e) => return out.error(&e),
    };
    for m in &updated.missing {
        crate::errln!("{} the price list has no Linux on-demand product for {m}", out.err_style.yellow("Warning:"));
    }
    let text = serde_json::to_string_pretty(&updated.book).unwrap_or_default();
    if let Err(e) = std::fs::write(&path, text + "\n") {
        crate::errln!("{} cannot write {}: {e}", out.err_style.red("Error:"), path.display());
        return EXIT_ERROR;
    }
    crate::outln!(
        "wrote {} ({} prices of {}); plans use it with GANTRY_PRICE_FILE={}",
        path.display(),
        updated.book.prices.len(),
        updated.book.date,
        path.display()
    );
    EXIT_OK
}
