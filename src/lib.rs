//! The regserial wire contract: Rust code generated from `proto/`, the encoded descriptor set
//! that reflection serves, and client constructors.

/// `regserial.serial.v1`: serial-svc's `SerialService` and `CatalogService`.
pub mod serial {
    pub mod v1 {
        tonic::include_proto!("regserial.serial.v1");
    }
}

/// `regserial.registration.v1`: registration-svc's `RegistrationService`.
pub mod registration {
    pub mod v1 {
        tonic::include_proto!("regserial.registration.v1");
    }
}

/// Encoded `FileDescriptorSet` of every proto in `proto/`, imports included.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("regserial_descriptor");

/// Client constructors that set the message limits the servers accept.
pub mod client {
    use tonic::transport::Channel;

    use crate::registration::v1::registration_service_client::RegistrationServiceClient;
    use crate::serial::v1::{
        catalog_service_client::CatalogServiceClient, serial_service_client::SerialServiceClient,
    };

    /// The largest message either side accepts (16 MiB), so that an oversized batch reaches the
    /// service's own validation instead of failing in the transport.
    pub const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

    pub fn serial_service(channel: Channel) -> SerialServiceClient<Channel> {
        SerialServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    pub fn catalog_service(channel: Channel) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    pub fn registration_service(channel: Channel) -> RegistrationServiceClient<Channel> {
        RegistrationServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }
}
