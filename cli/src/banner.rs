//! What `regserial up` prints once everything is serving: addresses, a development token and
//! grpcurl lines to copy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The address a local client dials: loopback when the service listens on every interface.
pub fn dial_addr(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

/// The banner for serial-svc at `serial` with `token`, ready to print.
pub fn render(serial: SocketAddr, org: &str, token: &str) -> String {
    let addr = dial_addr(serial);
    let call = |body: &str, method: &str| {
        format!(
            "grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" -d '{body}' {addr} regserial.serial.v1.{method}"
        )
    };
    let lines = [
        format!("serial-svc is serving on {addr}"),
        String::new(),
        format!("# a development token for org {org} with every scope, valid 24 hours"),
        format!("export TOKEN={token}"),
        String::new(),
        "# try it (grpcurl 1.8 or later)".to_owned(),
        format!("grpcurl -plaintext {addr} list"),
        call(
            r#"{"warrantyPlan":{"id":"std-2y","name":"Standard, 2 years","durationMonths":24}}"#,
            "CatalogService/CreateWarrantyPlan",
        ),
        call(
            r#"{"product":{"sku":"DRILL-1","name":"Cordless drill","warrantyPlanId":"std-2y"}}"#,
            "CatalogService/CreateProduct",
        ),
        call(
            r#"{"serials":[{"serialNumber":"SN-0001","productSku":"DRILL-1"},{"serialNumber":"SN-0002","productSku":"DRILL-1","validUntil":"2030-01-01T00:00:00Z"}]}"#,
            "SerialService/BatchCreateSerials",
        ),
        call(r#"{"serialNumber":"SN-0001"}"#, "SerialService/ValidateSerial"),
        call(r#"{"serialNumber":"SN-0001","claimant":"reg-1"}"#, "SerialService/ClaimSerial"),
        call(r#"{"serialNumber":"SN-0001"}"#, "SerialService/ListSerialEvents"),
        String::new(),
        "Ctrl-C stops.".to_owned(),
    ];
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_dials_loopback_when_listening_on_every_interface() {
        let text = render("0.0.0.0:50051".parse().unwrap(), "acme", "t0k");
        assert!(text.contains("export TOKEN=t0k"));
        assert!(text.contains("grpcurl -plaintext 127.0.0.1:50051 list"));
        assert!(text.contains("127.0.0.1:50051 regserial.serial.v1.SerialService/ClaimSerial"));
        assert!(!text.contains("0.0.0.0"));
    }
}
