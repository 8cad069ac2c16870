//! Compiles `proto/` into Rust with the protoc binary vendored by `protoc-bin-vendored`, so no
//! system protoc is needed, and writes a descriptor set for server reflection. The vendored
//! googleapis files are in `proto/third_party/`, an import root of their own (`google/rpc/...`).

use std::path::{Path, PathBuf};

const PROTO_ROOT: &str = "proto";
/// Searched first, so that a vendored file is named by its path below it (`google/rpc/...`).
const THIRD_PARTY_ROOT: &str = "proto/third_party";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = proto_files(Path::new(PROTO_ROOT))?;
    // tonic-prost-build's own rerun lines do nothing in 0.14: print them here.
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("regserial_descriptor.bin"))
        // Maps encode in key order, so equal requests hash equally (request_id replay checks).
        .btree_map(".")
        // google.rpc messages are tonic-types' own, so details built with `tonic_types` and
        // `google.rpc.Status` fields are one type.
        .extern_path(".google.rpc", "::tonic_types::pb")
        .compile_with_config(
            config,
            &protos,
            &[PathBuf::from(THIRD_PARTY_ROOT), PathBuf::from(PROTO_ROOT)],
        )?;
    Ok(())
}

/// Every `.proto` below `dir`, sorted so that builds are reproducible.
fn proto_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(proto_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
