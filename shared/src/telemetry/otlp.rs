//! OTLP/gRPC span export, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! The sampler is the one `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` choose (default
//! `parentbased_always_on`), applied before spans open ([`super::sampling`]). The SDK reads the
//! rest of the standard environment itself: `OTEL_BSP_*` (the batch processor), `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_RESOURCE_ATTRIBUTES`. `service.name` is
//! `OTEL_SERVICE_NAME`, else the binary's name.

use anyhow::Context as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Config, Sampler, SdkTracerProvider};

pub const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub const SERVICE_NAME_ENV: &str = "OTEL_SERVICE_NAME";

/// Where spans go and under which service name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// An `http://` or `https://` URL of an OTLP/gRPC receiver (a collector's port 4317).
    pub endpoint: String,
    pub service_name: String,
}

impl Export {
    /// From the environment: `None` when `OTEL_EXPORTER_OTLP_ENDPOINT` is unset or empty.
    pub fn from_env(binary: &str) -> anyhow::Result<Option<Export>> {
        let var = |name| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(endpoint) = var(ENDPOINT_ENV) else { return Ok(None) };
        let service_name = var(SERVICE_NAME_ENV).unwrap_or_else(|| binary.to_owned());
        let export = Export { endpoint, service_name };
        export.validate()?;
        Ok(Some(export))
    }

    fn validate(&self) -> anyhow::Result<()> {
        let scheme_ok = self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://");
        if !scheme_ok || self.endpoint.parse::<http::Uri>().is_err() {
            anyhow::bail!(
                "{ENDPOINT_ENV} must be an http:// or https:// URL of an OTLP/gRPC receiver, got {}",
                self.endpoint
            );
        }
        Ok(())
    }

    /// A tracer provider exporting in batches to the endpoint. Must run within a tokio runtime,
    /// which then carries the exporter's connection for as long as the provider lives.
    pub fn provider(&self) -> anyhow::Result<SdkTracerProvider> {
        self.validate()?;
        if self.endpoint.starts_with("https://") {
            anyhow::bail!(
                "{ENDPOINT_ENV}: https:// is not supported by this build (no TLS for OTLP); use a collector on plaintext gRPC, got {}",
                self.endpoint
            );
        }
        let exporter = SpanExporter::builder()
            .with_tonic()
            .with_endpoint(self.endpoint.clone())
            .build()
            .with_context(|| format!("{ENDPOINT_ENV}: cannot export to {}", self.endpoint))?;
        let resource = Resource::builder().with_service_name(self.service_name.clone()).build();
        // The environment's sampler decides before spans open (see `sampling`); what reaches
        // the SDK is sampled already.
        super::sampling::install(Config::default().sampler);
        Ok(SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(Sampler::AlwaysOn)
            .with_batch_exporter(exporter)
            .build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_must_be_an_http_url() {
        let export = |endpoint: &str| Export { endpoint: endpoint.into(), service_name: "s".into() };
        assert!(export("http://collector:4317").validate().is_ok());
        let err = export("collector:4317").validate().unwrap_err().to_string();
        assert!(err.contains(ENDPOINT_ENV) && err.contains("collector:4317"), "{err}");
    }
}
