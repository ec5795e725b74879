use super::*;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_900_000_000;

fn policy() -> TicketPolicy {
    TicketPolicy {
        keys: TicketKeys::new(TicketAlgorithm::HS256, KeyMaterial::Secret(KEY.to_vec()))
            .expect("keys"),
        from: vec![TicketPlacement::Query],
        query_param: "ticket".into(),
        subprotocol_prefix: "ticket.".into(),
        audience: "default/chat".into(),
        require_audience: false,
        bind_client_ip: false,
        single_use: true,
        max_age: None,
        leeway: Duration::from_secs(5),
        replay_store: None,
        claim_headers: Vec::new(),
        forward_first_message: false,
    }
}

fn mint(claims: Value, key: &[u8]) -> String {
    encode(&Header::default(), &claims, &EncodingKey::from_secret(key)).expect("mint")
}

fn client() -> IpAddr {
    "127.0.0.9".parse().expect("ip")
}

#[test]
fn accepts_a_good_ticket() {
    let t = mint(
        json!({"exp": NOW + 60, "jti": "a", "sub": "u1", "aud": "default/chat", "ip": "127.0.0.9"}),
        KEY,
    );
    let v = policy().verify(&t, client(), NOW).expect("valid");
    assert_eq!(v.jti.as_deref(), Some("a"));
    assert_eq!(v.claims["sub"], "u1");
    assert!(v.remaining >= Duration::from_secs(60));
}

#[test]
fn names_each_refusal() {
    let p = policy();
    let cases = [
        (
            mint(
                json!({"exp": NOW + 60, "jti": "a"}),
                b"another key, long enough......",
            ),
            TicketRefusal::BadSignature,
        ),
        (
            mint(
                json!({"exp": NOW + 60, "jti": "a", "aud": "default/other"}),
                KEY,
            ),
            TicketRefusal::WrongAudience,
        ),
        (
            mint(json!({"exp": NOW + 60, "jti": "a", "ip": "10.0.0.1"}), KEY),
            TicketRefusal::WrongIp,
        ),
        (
            mint(json!({"exp": NOW + 60}), KEY),
            TicketRefusal::MissingClaim("jti"),
        ),
        (
            mint(json!({"jti": "a"}), KEY),
            TicketRefusal::MissingClaim("exp"),
        ),
        ("not.a.jwt".to_string(), TicketRefusal::Malformed),
    ];
    for (token, want) in cases {
        let got = p.verify(&token, client(), NOW).err();
        assert_eq!(got, Some(want.clone()), "case {want:?}");
    }
}

#[test]
fn time_claims_follow_the_wall_clock() {
    let now = jsonwebtoken::get_current_timestamp();
    let p = policy();
    let expired = mint(json!({"exp": now - 60, "jti": "a"}), KEY);
    assert_eq!(
        p.verify(&expired, client(), now).err(),
        Some(TicketRefusal::Expired)
    );
    let early = mint(json!({"exp": now + 120, "nbf": now + 60, "jti": "a"}), KEY);
    assert_eq!(
        p.verify(&early, client(), now).err(),
        Some(TicketRefusal::NotYetValid)
    );
    let mut aged = policy();
    aged.max_age = Some(Duration::from_secs(30));
    let old = mint(json!({"exp": now + 60, "iat": now - 120, "jti": "a"}), KEY);
    assert_eq!(
        aged.verify(&old, client(), now).err(),
        Some(TicketRefusal::TooOld)
    );
}

#[test]
fn refusals_map_to_status_and_close_codes() {
    assert_eq!(TicketRefusal::Expired.status(), 401);
    assert_eq!(TicketRefusal::Expired.close_code(), 4401);
    assert_eq!(TicketRefusal::Replayed.status(), 403);
    assert_eq!(TicketRefusal::WrongIp.close_code(), 4403);
    assert_eq!(TicketRefusal::StoreUnavailable.status(), 503);
}

#[test]
fn keys_never_print_and_short_secrets_are_refused() {
    let k =
        TicketKeys::new(TicketAlgorithm::HS256, KeyMaterial::Secret(KEY.to_vec())).expect("keys");
    assert!(!format!("{k:?}").contains("0123456789"));
    assert!(
        TicketKeys::new(
            TicketAlgorithm::HS256,
            KeyMaterial::Secret(b"short".to_vec())
        )
        .is_err()
    );
    assert!(TicketKeys::new(TicketAlgorithm::RS256, KeyMaterial::Secret(KEY.to_vec())).is_err());
}

#[test]
fn l4_ticket_exp_near_u64_max_is_verified_without_overflow() {
    let t = mint(json!({"exp": u64::MAX, "jti": "far", "iat": 0}), KEY);
    let mut p = policy();
    p.max_age = Some(Duration::from_secs(u64::MAX));
    let v = p.verify(&t, client(), NOW).expect("valid");
    assert_eq!(v.remaining, Duration::from_secs(u64::MAX - NOW + 5));
}
