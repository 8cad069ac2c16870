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

/// The banner for serial-svc at `serial` and registration-svc at `registration`, with
/// `token`, ready to print: a walkthrough from a warranty plan to an approved registration.
pub fn render(serial: SocketAddr, registration: SocketAddr, org: &str, token: &str) -> String {
    let serial = dial_addr(serial);
    let registration = dial_addr(registration);
    let call = |addr: SocketAddr, body: &str, method: &str| {
        format!(
            "grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" -d '{body}' {addr} regserial.{method}"
        )
    };
    let lines = [
        format!("serial-svc is serving on {serial}"),
        format!("registration-svc is serving on {registration} (claiming serials from serial-svc)"),
        String::new(),
        format!("# a development token for org {org} with every scope, valid 24 hours"),
        format!("export TOKEN={token}"),
        String::new(),
        "# try it (grpcurl 1.8 or later): a plan, a product and serials in serial-svc ...".to_owned(),
        format!("grpcurl -plaintext {serial} list"),
        call(
            serial,
            r#"{"warrantyPlan":{"id":"std-2y","name":"Standard, 2 years","durationMonths":24}}"#,
            "serial.v1.CatalogService/CreateWarrantyPlan",
        ),
        call(
            serial,
            r#"{"product":{"sku":"DRILL-1","name":"Cordless drill","warrantyPlanId":"std-2y"}}"#,
            "serial.v1.CatalogService/CreateProduct",
        ),
        call(
            serial,
            r#"{"serials":[{"serialNumber":"SN-0001","productSku":"DRILL-1"},{"serialNumber":"SN-0002","productSku":"DRILL-1"}]}"#,
            "serial.v1.SerialService/BatchCreateSerials",
        ),
        "# ... then a customer registers SN-0001 and support looks it up".to_owned(),
        call(
            registration,
            r#"{"requestId":"5f1c0b7e-2a4d-4c49-9a43-1f1b2c3d4e5f","registration":{"customerEmail":"ada@example.com","customerName":"Ada","purchaseDate":"2026-11-01T00:00:00Z","lineItems":[{"sku":"DRILL-1","quantity":1,"serialNumber":"SN-0001"}]}}"#,
            "registration.v1.RegistrationService/CreateRegistration",
        ),
        call(
            registration,
            r#"{"serialNumber":"SN-0001"}"#,
            "registration.v1.RegistrationService/LookupRegistration",
        ),
        "# the merchant approves it, by the id the lookup answers".to_owned(),
        format!(
            "ID=$({} | grep -m1 '\"id\"' | cut -d'\"' -f4)",
            call(
                registration,
                r#"{"serialNumber":"SN-0001"}"#,
                "registration.v1.RegistrationService/LookupRegistration"
            )
        ),
        call(registration, r#"{"id":"'"$ID"'"}"#, "registration.v1.RegistrationService/ApproveRegistration"),
        call(serial, r#"{"serialNumber":"SN-0001"}"#, "serial.v1.SerialService/ListSerialEvents"),
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
        let text = render("0.0.0.0:50051".parse().unwrap(), "0.0.0.0:50052".parse().unwrap(), "acme", "t0k");
        assert!(text.contains("export TOKEN=t0k"));
        assert!(text.contains("grpcurl -plaintext 127.0.0.1:50051 list"));
        assert!(text.contains("127.0.0.1:50051 regserial.serial.v1.SerialService/BatchCreateSerials"));
        assert!(
            text.contains("127.0.0.1:50052 regserial.registration.v1.RegistrationService/CreateRegistration")
        );
        assert!(!text.contains("0.0.0.0"));
    }
}
