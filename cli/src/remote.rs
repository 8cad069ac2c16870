//! What `import` and `export` share: the endpoint and token flags, and an authenticated client.

use anyhow::Context as _;
use regserial::serial::v1::serial_service_client::SerialServiceClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Clone, clap::Args)]
pub struct RemoteArgs {
    /// serial-svc's gRPC endpoint.
    #[arg(long, env = "REGSERIAL_ENDPOINT", default_value = "http://127.0.0.1:50051")]
    pub endpoint: String,
    /// The bearer token (a JWT with the org and `serials:write` to import, `serials:read` to
    /// export).
    #[arg(long, env = "REGSERIAL_TOKEN", hide_env_values = true)]
    pub token: String,
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub type Client = SerialServiceClient<InterceptedService<Channel, Bearer>>;

impl RemoteArgs {
    pub async fn client(&self) -> anyhow::Result<Client> {
        let bearer = format!("Bearer {}", self.token.trim())
            .parse()
            .map_err(|_| anyhow::anyhow!("--token (REGSERIAL_TOKEN) must be printable ascii"))?;
        let channel = Channel::from_shared(self.endpoint.clone())
            .with_context(|| format!("--endpoint {:?} is not a valid uri", self.endpoint))?
            .connect()
            .await
            .with_context(|| format!("cannot connect to {}", self.endpoint))?;
        let limit = regserial::client::MAX_MESSAGE_SIZE;
        Ok(SerialServiceClient::with_interceptor(channel, Bearer(bearer))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit))
    }
}

/// A call's failure in one line: code and message.
pub fn failed(what: &str, status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{what}: {:?}: {}", status.code(), status.message())
}
