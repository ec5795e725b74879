//! The address clients reach wsgate on, as written into Ingress and WebSocketRoute status:
//! `--publish-status-address` when given, else the published Service's load-balancer
//! ingress and external IPs. A ClusterIP is published only for a Service of type ClusterIP
//! (the operator chose it); never as a stand-in while a load balancer is being provisioned,
//! where external-dns would publish a private address.

use k8s_openapi::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, Service};

/// The status addresses for `service`, or for the explicit `addresses`.
pub fn published(service: Option<&Service>, addresses: &[String]) -> LoadBalancerStatus {
    let ingress = if addresses.is_empty() {
        service.map(from_service).unwrap_or_default()
    } else {
        addresses.iter().map(|a| entry(a)).collect()
    };
    LoadBalancerStatus {
        ingress: Some(ingress),
    }
}

fn entry(address: &str) -> LoadBalancerIngress {
    if address.parse::<std::net::IpAddr>().is_ok() {
        LoadBalancerIngress {
            ip: Some(address.into()),
            ..LoadBalancerIngress::default()
        }
    } else {
        LoadBalancerIngress {
            hostname: Some(address.into()),
            ..LoadBalancerIngress::default()
        }
    }
}

fn from_service(service: &Service) -> Vec<LoadBalancerIngress> {
    let spec = service.spec.clone().unwrap_or_default();
    let mut out: Vec<LoadBalancerIngress> = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.ip.is_some() || i.hostname.is_some())
        .map(|i| LoadBalancerIngress {
            ip: i.ip,
            hostname: i.hostname,
            ..LoadBalancerIngress::default()
        })
        .collect();
    out.extend(spec.external_ips.iter().flatten().map(|ip| entry(ip)));
    if out.is_empty() && spec.type_.as_deref() == Some("ClusterIP") {
        out.extend(
            spec.cluster_ip
                .filter(|ip| !ip.is_empty() && ip != "None")
                .map(|ip| entry(&ip)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(yaml: &str) -> Service {
        crate::yaml::from_str(yaml).expect("fixture")
    }

    fn shown(status: LoadBalancerStatus) -> Vec<String> {
        status
            .ingress
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.ip.or(i.hostname).unwrap_or_default())
            .collect()
    }

    #[test]
    fn addresses_by_service_type() {
        let cases = [
            // A LoadBalancer still being provisioned publishes nothing, not its ClusterIP.
            ("spec: {type: LoadBalancer, clusterIP: 10.0.0.1}", vec![]),
            (
                "spec: {type: LoadBalancer, clusterIP: 10.0.0.1}\nstatus: {loadBalancer: {ingress: [{ip: 203.0.113.7}, {hostname: lb.example.net}]}}",
                vec!["203.0.113.7", "lb.example.net"],
            ),
            (
                "spec: {type: NodePort, clusterIP: 10.0.0.1, externalIPs: [198.51.100.2]}",
                vec!["198.51.100.2"],
            ),
            ("spec: {type: NodePort, clusterIP: 10.0.0.1}", vec![]),
            (
                "spec: {type: ClusterIP, clusterIP: 10.0.0.1}",
                vec!["10.0.0.1"],
            ),
            ("spec: {type: ClusterIP, clusterIP: None}", vec![]),
        ];
        for (yaml, want) in cases {
            assert_eq!(shown(published(Some(&service(yaml)), &[])), want, "{yaml}");
        }
    }

    #[test]
    fn explicit_addresses_win() {
        let svc = service("spec: {type: ClusterIP, clusterIP: 10.0.0.1}");
        let explicit = ["192.0.2.1".to_string(), "ws.example.com".to_string()];
        assert_eq!(
            shown(published(Some(&svc), &explicit)),
            vec!["192.0.2.1", "ws.example.com"]
        );
    }
}
