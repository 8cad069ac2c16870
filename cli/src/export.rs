//! `regserial export`: the org's serials as CSV with the import's header, paged through
//! `ListSerials` (1,000 a page) and written as they come, to standard output or `--output`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use prost_types::Timestamp;
use regserial::serial::v1::{ListSerialsRequest, Serial};

use crate::import::quote;
use crate::remote::{RemoteArgs, failed};

pub const HEADER: &str = "serialNumber,productId,warrantyId,validFrom,validUntil,registerUntil,customerTags";

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let mut client = args.remote.client().await?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(out);
    writeln!(out, "{HEADER}")?;
    let mut page_token = String::new();
    loop {
        let request = ListSerialsRequest { page_size: 1000, page_token, ..Default::default() };
        let page =
            client.list_serials(request).await.map_err(|s| failed("cannot list serials", s))?.into_inner();
        for serial in &page.serials {
            writeln!(out, "{}", row(serial))?;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    out.flush()?;
    Ok(())
}

fn time(ts: &Option<Timestamp>) -> String {
    ts.as_ref()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

fn row(serial: &Serial) -> String {
    [
        quote(&serial.serial_number),
        quote(&serial.product_sku),
        quote(&serial.warranty_plan_id),
        time(&serial.valid_from),
        time(&serial.valid_until),
        time(&serial.register_until),
        quote(&serial.customer_tags.join(",")),
    ]
    .join(",")
}
