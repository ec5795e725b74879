use super::*;
use crate::table::TlsVersion;

fn cert(chain: &[u8], key: &[u8]) -> TlsCert {
    TlsCert {
        cert_chain_pem: chain.into(),
        key_pem: key.into(),
        min_version: TlsVersion::Tls12,
    }
}

fn provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// `openssl x509 -enddate` of the fixtures: Oct 29 04:42:51 2126 GMT.
const FIXTURE_NOT_AFTER: i64 = 4_948_922_571;

#[test]
fn rsa_ecdsa_and_ed25519_keys_in_every_pem_form_load() {
    let cases: [(&str, &[u8], &[u8]); 6] = [
        (
            "rsa pkcs8",
            include_bytes!("testdata/rsa.crt"),
            include_bytes!("testdata/rsa.key"),
        ),
        (
            "rsa pkcs1",
            include_bytes!("testdata/rsa.crt"),
            include_bytes!("testdata/rsa-pkcs1.key"),
        ),
        (
            "ecdsa pkcs8",
            include_bytes!("testdata/ecdsa.crt"),
            include_bytes!("testdata/ecdsa.key"),
        ),
        (
            "ecdsa sec1",
            include_bytes!("testdata/ecdsa.crt"),
            include_bytes!("testdata/ecdsa-sec1.key"),
        ),
        (
            "ed25519",
            include_bytes!("testdata/ed25519.crt"),
            include_bytes!("testdata/ed25519.key"),
        ),
        (
            "rsa full chain",
            include_bytes!("testdata/rsa-chain.crt"),
            include_bytes!("testdata/rsa.key"),
        ),
    ];
    for (name, chain, key) in cases {
        let parsed =
            parse(&cert(chain, key), &provider()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            parsed.not_after,
            Some(FIXTURE_NOT_AFTER),
            "{name}: leaf notAfter"
        );
    }
    let chain = parse(
        &cert(
            include_bytes!("testdata/rsa-chain.crt"),
            include_bytes!("testdata/rsa.key"),
        ),
        &provider(),
    )
    .expect("chain");
    assert_eq!(chain.key.cert.len(), 2, "leaf and CA are both served");
}

#[test]
fn a_key_of_another_certificate_is_refused_as_a_key_error() {
    let err = parse(
        &cert(
            include_bytes!("testdata/rsa.crt"),
            include_bytes!("testdata/ecdsa.key"),
        ),
        &provider(),
    )
    .expect_err("mismatch");
    assert!(matches!(err, CertError::KeyMismatch), "{err}");
    assert_eq!(err.field(), "key");
    let err = parse(
        &cert(
            include_bytes!("testdata/ecdsa.crt"),
            include_bytes!("testdata/ed25519.key"),
        ),
        &provider(),
    )
    .expect_err("mismatch");
    assert!(matches!(err, CertError::KeyMismatch), "{err}");
}

#[test]
fn missing_or_swapped_pem_blocks_name_the_input_at_fault() {
    let key: &[u8] = include_bytes!("testdata/rsa.key");
    let crt: &[u8] = include_bytes!("testdata/rsa.crt");
    let err = parse(&cert(b"not a certificate", key), &provider()).expect_err("no cert");
    assert!(matches!(err, CertError::NoCertificate), "{err}");
    assert_eq!(err.field(), "cert");
    let err = parse(&cert(key, key), &provider()).expect_err("key given as cert");
    assert_eq!(err.field(), "cert", "{err}");
    let err = parse(&cert(crt, crt), &provider()).expect_err("cert given as key");
    assert!(matches!(err, CertError::NoKey), "{err}");
    assert_eq!(err.field(), "key");
}

#[test]
fn a_ca_bundle_reads_as_a_chain() {
    let ca = parse_chain(include_bytes!("testdata/ca.crt")).expect("ca");
    assert_eq!(ca.len(), 1);
    // `openssl x509 -enddate`: Oct 29 04:42:50 2126 GMT, one second before the leaves.
    assert_eq!(super::der::not_after(&ca[0]), Some(FIXTURE_NOT_AFTER - 1));
}
