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
pub(crate) enum PricesCommand {
    /// Read today's prices for every machine type of the current price book and of the given
    /// stacks: EC2 on-demand from the AWS Price List Query API (pricing:GetProducts), Compute
    /// Engine machines and GPUs (on-demand and spot) from the Cloud Billing Catalog API; write a
    /// price book (use it with GANTRY_PRICE_FILE=FILE). Cloud TPU prices are carried over.
    Update {
        /// Stack directories whose queues' instance types to price too.
        dirs: Vec<PathBuf>,
        /// Where to write the price book.
        #[arg(long, short = 'o', value_name = "FILE", default_value = "gantry-prices.json")]
        out: PathBuf,
        /// The Google Cloud project whose Compute API answers machine shapes (default: the first
        /// given stack's project).
        #[arg(long, value_name = "PROJECT")]
        gcp_project: Option<String>,
        #[command(flatten)]
        vars: VarArgs,
    },
}

pub(super) async fn run(out: &Output, cmd: PricesCommand, stats: std::sync::Arc<crate::cloud::stats::ApiStats>) -> i32 {
    let PricesCommand::Update { dirs, out: path, gcp_project, vars } = cmd;
    let current = match PriceBook::current() {
        Ok(b) => b,
        Err(e) => {
            crate::errln!("{} {e}", out.err_style.red("Error:"));
            return EXIT_ERROR;
        }
    };
    let want = match wanted(&current, &dirs, &load_options(&vars), gcp_project) {
        Ok(w) => w,
        Err(e) => return out.error(&e),
    };
    crate::errln!("pricing {} EC2 and {} Compute Engine machine type(s) and region(s)…", want.aws.len(), want.gcp.machines.len() + want.gcp.gpus.len());
    let gcp = crate::cloud::gcp_catalog::GcpPriceRest::connect(stats.clone());
    let aws = crate::cloud::aws::AwsContext::load("us-east-1", stats).await;
    let api = crate::cloud::pricing::AwsPrices::new(aws);
    let today = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_string();
    let say = |line: String| crate::errln!("{line}");
    let gcp_api = gcp.as_ref().ok().map(|g| g as &dyn crate::cloud::gcp_catalog::GcpPriceApi);
    let updated = match update(&current, &want, &api, gcp_api, &today, &say).await {
        Ok(u) => u,
        Err(e) => return out.error(&e),
    };
    for m in &updated.missing {
        crate::errln!("{} {m}", out.err_style.yellow("Warning:"));
    }
    if let Some(why) = &updated.carried_over {
        let why = gcp.as_ref().err().map_or(why.clone(), |e| e.to_string());
        crate::errln!("{} Google Cloud prices carried over from the current book: {why}", out.err_style.yellow("Warning:"));
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
