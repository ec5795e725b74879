//! `spec.sharedState` (a routes file's `ProxyConfig`, or the controller's flags) compiled into
//! [`SharedState`]: the Redis URL checked, file names resolved, inline passwords refused.

use std::path::Path;

use crate::spec::SharedStateSpec;
use crate::table::shared::{SharedState, parse_redis_url};

type FieldResult<T> = Result<T, (String, String)>;

fn field(name: &str, message: impl Into<String>) -> (String, String) {
    (name.to_string(), message.into())
}

/// Compiles `spec`; relative file names are resolved against `base` (the routes file's
/// directory). A password written into the URL is refused: it would end up in files,
/// process listings and logs.
pub fn compile_shared_state(
    spec: Option<&SharedStateSpec>,
    base: &Path,
) -> FieldResult<SharedState> {
    let Some(redis) = spec.and_then(|s| s.redis.as_ref()) else {
        return Ok(SharedState::default());
    };
    let url_field = "spec.sharedState.redis.url";
    let (mut target, inline) = parse_redis_url(&redis.url).map_err(|m| field(url_field, m))?;
    if inline.is_some() {
        return Err(field(
            url_field,
            "a password in the URL is not accepted: put it in a file named by passwordFile",
        ));
    }
    let file = |name: &Option<String>, what: &str| -> FieldResult<Option<std::path::PathBuf>> {
        match name.as_deref() {
            None => Ok(None),
            Some("") => Err(field(
                &format!("spec.sharedState.redis.{what}"),
                "must not be empty",
            )),
            Some(n) => Ok(Some(base.join(n))),
        }
    };
    target.password_file = file(&redis.password_file, "passwordFile")?;
    target.ca_file = file(&redis.ca_file, "caFile")?;
    if target.ca_file.is_some() && !target.tls {
        return Err(field(
            "spec.sharedState.redis.caFile",
            "needs a rediss:// URL (TLS)",
        ));
    }
    Ok(SharedState {
        redis: Some(target),
    })
}

/// A route's own `replayStore` URL: valid, and without a password (route authors are not
/// trusted with one, and it would be readable by everyone who can read the route).
pub fn check_replay_store(url: &str) -> FieldResult<()> {
    let name = "spec.auth.ticket.replayStore";
    let (_, inline) = parse_redis_url(url).map_err(|m| field(name, m))?;
    if inline.is_some() {
        return Err(field(
            name,
            "a password in the URL is not accepted: configure Redis once in the ProxyConfig's sharedState.redis (with a passwordFile) and leave replayStore unset",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::RedisSpec;

    fn spec(url: &str, password_file: Option<&str>, ca_file: Option<&str>) -> SharedStateSpec {
        SharedStateSpec {
            redis: Some(RedisSpec {
                url: url.into(),
                password_file: password_file.map(Into::into),
                ca_file: ca_file.map(Into::into),
            }),
        }
    }

    #[test]
    fn resolves_files_next_to_the_routes_file() {
        let s = spec(
            "rediss://wsgate@redis:6380",
            Some("redis.pw"),
            Some("ca.pem"),
        );
        let t = compile_shared_state(Some(&s), Path::new("/etc/wsgate"))
            .expect("valid")
            .redis
            .expect("redis");
        assert_eq!(
            t.password_file.as_deref(),
            Some(Path::new("/etc/wsgate/redis.pw"))
        );
        assert_eq!(t.ca_file.as_deref(), Some(Path::new("/etc/wsgate/ca.pem")));
        assert_eq!(t.username.as_deref(), Some("wsgate"));
        assert_eq!(
            compile_shared_state(None, Path::new(".")),
            Ok(SharedState::default())
        );
    }

    #[test]
    fn refuses_inline_passwords_and_names_the_field() {
        let err = compile_shared_state(
            Some(&spec("redis://u:hunter2@redis", None, None)),
            Path::new("."),
        )
        .expect_err("inline password");
        assert_eq!(err.0, "spec.sharedState.redis.url");
        assert!(err.1.contains("passwordFile"), "{}", err.1);
        assert!(
            !err.1.contains("hunter2"),
            "the message must not repeat the password"
        );
        let err = compile_shared_state(
            Some(&spec("redis://redis", None, Some("ca.pem"))),
            Path::new("."),
        )
        .expect_err("caFile without TLS");
        assert_eq!(err.0, "spec.sharedState.redis.caFile");
        let err = check_replay_store("redis://:pw@redis").expect_err("inline password");
        assert_eq!(err.0, "spec.auth.ticket.replayStore");
        assert_eq!(check_replay_store("redis://redis:6379/2"), Ok(()));
    }
}
