//! Reading answers of the reference Flask API as well as ours: our SPA works against
//! either server. These helpers only widen what a client reads; request bodies, which the
//! server reads, stay strict.

use serde::{Deserialize, Deserializer};

/// `null` (or an absent field, with `#[serde(default)]`) reads as the type's default.
pub(crate) fn null_as_empty<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The default of a flag that older servers leave out.
pub(crate) fn yes() -> bool {
    true
}
