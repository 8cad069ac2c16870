//! `all`: both benches on both backends, one table.

use crate::args::Backend;
use crate::cli::AllCommand;
use crate::{batch, grpc, h2load, report};

pub async fn run(args: &AllCommand) -> anyhow::Result<()> {
    // Before any work, so that a missing h2load fails in a second rather than after the batches.
    let h2load_version = h2load::ensure_installed(&args.grpc.h2load.h2load_bin).await?;
    let mut rows = Vec::new();
    for backend in Backend::ALL {
        rows.extend(report::batch_rows(&batch::run(&args.server, backend, &args.batch).await?));
        rows.extend(report::grpc_rows(&grpc::run(&args.server, backend, &args.grpc).await?));
    }
    report::print(&rows, &report::notes(&args.server.server_rust_log, Some(&h2load_version)));
    Ok(())
}
