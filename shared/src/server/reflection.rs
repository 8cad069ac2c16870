//! gRPC server reflection, in both `grpc.reflection.v1` and `grpc.reflection.v1alpha` (grpcurl
//! 1.8 speaks only v1alpha), serving the descriptors of our services, of the google.rpc error
//! details (so clients print them decoded), of health and of reflection itself.

use anyhow::Context;
use tonic_reflection::server::{Builder, v1, v1alpha};

/// Served by every server next to its own services.
const ALWAYS_SERVED: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The v1 and v1alpha reflection services for `descriptor_sets` (encoded `FileDescriptorSet`s,
/// such as `regserial::FILE_DESCRIPTOR_SET`), plus health's and reflection's own descriptors,
/// advertising `services` and the health and reflection services.
#[allow(clippy::type_complexity)]
pub fn reflection(
    descriptor_sets: &[&'static [u8]],
    services: &[&str],
) -> anyhow::Result<(
    v1::ServerReflectionServer<impl v1::ServerReflection + use<>>,
    v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection + use<>>,
)> {
    let builder = || {
        let builder = descriptor_sets
            .iter()
            .fold(Builder::configure(), |builder, set| builder.register_encoded_file_descriptor_set(set));
        let builder = builder
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET);
        // Advertise what this server serves, not every service in the shared descriptor set
        // (serial-svc's set also describes registration-svc).
        services
            .iter()
            .copied()
            .chain(ALWAYS_SERVED)
            .fold(builder, |builder, name| builder.with_service_name(name))
    };
    let v1 = builder().build_v1().context("cannot build the reflection v1 service")?;
    let v1alpha = builder().build_v1alpha().context("cannot build the reflection v1alpha service")?;
    Ok((v1, v1alpha))
}

#[cfg(test)]
mod tests {
    #[test]
    fn our_descriptors_and_health_are_accepted() {
        assert!(
            super::reflection(&[regserial::FILE_DESCRIPTOR_SET], &["regserial.serial.v1.SerialService"])
                .is_ok()
        );
    }

    #[test]
    fn a_broken_descriptor_set_is_an_error() {
        assert!(super::reflection(&[b"\x0a\x05broken"], &[]).is_err());
    }
}
