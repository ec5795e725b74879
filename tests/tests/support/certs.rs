//! Test PKI made on the fly: a root CA, an intermediate, and leaf certificates with RSA
//! (key from openssl: ring cannot generate RSA keys), ECDSA P-256 or Ed25519 keys.

use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PKCS_ED25519,
};

/// Key algorithm of a leaf.
#[derive(Clone, Copy, Debug)]
pub enum Alg {
    Rsa,
    Ecdsa,
    Ed25519,
}

/// A certificate authority that can issue leaves.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// PEM of this CA's certificate.
    pub pem: String,
    /// PEM of the certificates between a leaf and the root (empty for the root itself).
    pub chain_pem: String,
}

/// A leaf: full chain (leaf first) and key, both PEM.
#[derive(Clone)]
pub struct Leaf {
    pub chain_pem: String,
    pub key_pem: String,
    /// PEM of the leaf alone.
    pub cert_pem: String,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl Ca {
    /// A self-signed root.
    pub fn root(name: &str) -> Ca {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let params = ca_params(name);
        let pem = params.self_signed(&key).expect("self-signed").pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
            chain_pem: String::new(),
        }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, name: &str) -> Ca {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let params = ca_params(name);
        let pem = params.signed_by(&key, &self.issuer).expect("sign").pem();
        Ca {
            issuer: Issuer::new(params, key),
            chain_pem: format!("{pem}{}", self.chain_pem),
            pem,
        }
    }

    /// A server certificate for `hosts` (DNS names; `*.` wildcards allowed).
    pub fn leaf(&self, hosts: &[&str], alg: Alg) -> Leaf {
        let key = match alg {
            Alg::Rsa => KeyPair::from_pem(&openssl_rsa_key()).expect("RSA key"),
            Alg::Ecdsa => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key"),
            Alg::Ed25519 => KeyPair::generate_for(&PKCS_ED25519).expect("key"),
        };
        let names: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, hosts.first().copied().unwrap_or("leaf"));
        let cert_pem = params.signed_by(&key, &self.issuer).expect("sign").pem();
        Leaf {
            chain_pem: format!("{cert_pem}{}", self.chain_pem),
            key_pem: key.serialize_pem(),
            cert_pem,
        }
    }
}

fn openssl_rsa_key() -> String {
    let out = wsgate_tests::process::output_within(
        Command::new("openssl").args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ]),
        "openssl genpkey",
        std::time::Duration::from_secs(60),
    );
    assert!(out.status.success(), "openssl genpkey failed");
    String::from_utf8(out.stdout).expect("PEM")
}
