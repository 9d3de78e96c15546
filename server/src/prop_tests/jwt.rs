//! Bearer access tokens: arbitrary text, and JWT-shaped text with arbitrary parts, to the
//! verifier, which must refuse it without a panic; and what it signs, it accepts.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use super::{config, text};
use crate::auth::jwt::{Keys, Settings, TOKEN_TYPE};
use crate::db::Db;
use crate::secrets::Sealer;

/// A real key set in a fresh SQLite database, and a runtime to call it from properties.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    db: Db,
    sealer: Sealer,
    keys: Keys,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jwt.db").display());
    let sealer = Sealer::new(&[7; 32], None);
    let (db, keys) = runtime.block_on(async {
        let db = Db::connect(&url).await.unwrap();
        let settings = Settings {
            issuer: "http://localhost:8080".into(),
            audience: "microblog".into(),
            lifetime: Duration::from_secs(900),
            publish_ahead: Duration::from_secs(0),
        };
        let keys = Keys::load(&db, &sealer, settings).await.unwrap();
        (db, keys)
    });
    Fixture {
        runtime,
        db,
        sealer,
        keys,
        _dir: dir,
    }
}

/// Three dot-separated base64url parts; the header is JSON that often names our type, an
/// algorithm and a key id, so that verification gets past the first checks.
fn jwt_shaped() -> impl Strategy<Value = String> {
    let alg = prop_oneof![
        Just("EdDSA"),
        Just("none"),
        Just("HS256"),
        Just("RS256"),
        Just("")
    ];
    let header = (alg, prop::option::of(text()), any::<bool>()).prop_map(|(alg, kid, ours)| {
        let typ = if ours { TOKEN_TYPE } else { "JWT" };
        match kid {
            Some(kid) => serde_json::json!({"alg": alg, "typ": typ, "kid": kid}),
            None => serde_json::json!({"alg": alg, "typ": typ}),
        }
        .to_string()
    });
    let payload = prop_oneof![
        text(),
        (any::<i64>(), any::<i64>(), text()).prop_map(|(exp, sid, sub)| {
            serde_json::json!({"iss": "http://localhost:8080", "aud": "microblog", "sub": sub,
                "exp": exp, "iat": 0, "jti": "x", "sid": sid})
            .to_string()
        }),
    ];
    let signature = prop::collection::vec(any::<u8>(), 0..80);
    (header, payload, signature).prop_map(|(h, p, s)| {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(h),
            URL_SAFE_NO_PAD.encode(p),
            URL_SAFE_NO_PAD.encode(s)
        )
    })
}

#[test]
fn any_bearer_token_is_refused_without_a_panic() {
    let f = fixture();
    let strategy = prop_oneof![text(), "[A-Za-z0-9_.-]{0,300}", jwt_shaped()];
    TestRunner::new(config())
        .run(&strategy, |token| {
            for allow_expired in [false, true] {
                let verified =
                    f.runtime
                        .block_on(f.keys.verify(&token, allow_expired, &f.db, &f.sealer));
                prop_assert!(verified.is_err(), "accepted a token it never signed");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn what_is_signed_verifies_and_any_change_to_it_is_refused() {
    let f = fixture();
    let strategy = (
        1i64..i64::MAX,
        1i64..i64::MAX,
        any::<prop::sample::Index>(),
        1u8..=255,
    );
    TestRunner::new(ProptestConfig {
        cases: 512,
        ..config()
    })
    .run(&strategy, |(user, session, at, flip)| {
        let token = f.keys.sign(user, session).unwrap();
        let claims = f
            .runtime
            .block_on(f.keys.verify(&token, false, &f.db, &f.sealer))
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(claims.user_id(), Some(user));
        prop_assert_eq!(claims.sid, session);
        // One byte changed anywhere: refused (or no longer text at all).
        let mut bytes = token.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        if let Ok(changed) = String::from_utf8(bytes) {
            let verified = f
                .runtime
                .block_on(f.keys.verify(&changed, false, &f.db, &f.sealer));
            prop_assert!(verified.is_err(), "accepted {changed}");
        }
        Ok(())
    })
    .unwrap();
}
