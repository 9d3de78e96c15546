//! `/api/avatars/{id}`: our own identicons, so that no hash of an email and no visitor's
//! address goes to a third party (docs/api.md, "Where we differ, and why").
//!
//! An identicon is drawn from a hash of the user id alone: a symmetric 5x5 grid in one
//! colour. It needs no database, so any id gets one, whether or not such a user exists:
//! the answer says nothing about which accounts exist, and an `<img>` never breaks.

use std::fmt::Write;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Path, Query};
use crate::startup::AppState;

/// Pixel sizes: the default, and the bounds a requested size is clamped to.
const DEFAULT_SIZE: i64 = 128;
const MIN_SIZE: i64 = 16;
const MAX_SIZE: i64 = 512;

/// The drawing never changes for an id (a new algorithm would change `avatar_url`), so
/// browsers and proxies may keep it for a year without asking again.
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(avatar))
}

/// The query string of an avatar: its size. `d` (Gravatar's style) and any other
/// parameter are ignored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvatarQuery {
    /// Width and height in pixels, clamped to 16..512. Default 128.
    pub s: Option<i64>,
}

/// Get a user's avatar: an identicon drawn from the id, as SVG.
///
/// Needs no login (`<img>` cannot send a Bearer header). Every id gets an identicon,
/// existing user or not, so the answer reveals nothing about accounts.
#[utoipa::path(
    get, path = "/avatars/{id}", tag = "users",
    params(("id" = i64, Path, description = "A user id"), AvatarQuery),
    responses(
        (status = 200, description = "The identicon", content_type = "image/svg+xml", body = String),
        (status = 400, description = "`s` is not a number", body = wire::ErrorBody),
        (status = 404, description = "The id is not a number", body = wire::ErrorBody),
    )
)]
async fn avatar(Path(id): Path<i64>, Query(query): Query<AvatarQuery>) -> impl IntoResponse {
    let size = query.s.unwrap_or(DEFAULT_SIZE).clamp(MIN_SIZE, MAX_SIZE);
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, CACHE_CONTROL),
            // Opened on its own, an SVG is a document: let it load and run nothing.
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
        ],
        identicon_svg(id, size),
    )
}

/// The identicon of `id`, `size` pixels square.
pub fn identicon_svg(id: i64, size: i64) -> String {
    let digest = Sha256::new()
        .chain_update(b"microblog identicon v1\0")
        .chain_update(id.to_string())
        .finalize();
    let cells = cells(&digest);
    let (r, g, b) = hsl_to_rgb(
        u16::from_be_bytes([digest[16], digest[17]]) % 360,
        45 + u16::from(digest[18] % 25),
        40 + u16::from(digest[19] % 20),
    );
    // One path for all the cells: adjacent squares then show no anti-aliased seams.
    let mut path = String::new();
    for (row, line) in cells.iter().enumerate() {
        for (col, filled) in line.iter().enumerate() {
            if *filled {
                let _ = write!(path, "M{}.5 {}.5h1v1h-1z", col, row);
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{size}\" \
         viewBox=\"0 0 6 6\"><rect width=\"6\" height=\"6\" fill=\"#f0f0f0\"/>\
         <path fill=\"#{r:02x}{g:02x}{b:02x}\" d=\"{path}\"/></svg>"
    )
}

/// The 5x5 grid: the left three columns from 15 bits of the hash, mirrored to the right.
fn cells(digest: &[u8]) -> [[bool; 5]; 5] {
    let bits = u16::from_be_bytes([digest[0], digest[1]]);
    // An empty grid would be a blank square: fill the middle column instead.
    let bits = if bits & 0x7fff == 0 {
        0b0100_1001_0010_0100
    } else {
        bits
    };
    let mut grid = [[false; 5]; 5];
    for (row, line) in grid.iter_mut().enumerate() {
        for col in 0..3 {
            let filled = (bits >> (row * 3 + col)) & 1 == 1;
            line[col] = filled;
            line[4 - col] = filled;
        }
    }
    grid
}

/// HSL (degrees, percent, percent) to 8-bit RGB.
fn hsl_to_rgb(h: u16, s: u16, l: u16) -> (u8, u8, u8) {
    let (h, s, l) = (f64::from(h), f64::from(s) / 100.0, f64::from(l) / 100.0);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match h {
        h if h < 60.0 => (c, x, 0.0),
        h if h < 120.0 => (x, c, 0.0),
        h if h < 180.0 => (0.0, c, x),
        h if h < 240.0 => (0.0, x, c),
        h if h < 300.0 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (byte(r), byte(g), byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(id: i64) -> Vec<u8> {
        Sha256::new()
            .chain_update(b"microblog identicon v1\0")
            .chain_update(id.to_string())
            .finalize()
            .to_vec()
    }

    #[test]
    fn the_same_id_always_gives_the_same_picture() {
        assert_eq!(identicon_svg(6, 48), identicon_svg(6, 48));
        assert_ne!(identicon_svg(6, 48), identicon_svg(7, 48));
    }

    #[test]
    fn grids_are_mirror_symmetric_and_never_empty() {
        for id in 0..200 {
            let grid = cells(&digest(id));
            for line in grid {
                assert_eq!(line[0], line[4], "id {id}");
                assert_eq!(line[1], line[3], "id {id}");
            }
            assert!(grid.iter().flatten().any(|c| *c), "id {id}");
        }
        assert!(cells(&[0u8; 32]).iter().flatten().any(|c| *c));
    }

    #[test]
    fn the_size_sets_width_and_height() {
        let svg = identicon_svg(1, 48);
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"48\" height=\"48\""),
            "{svg}"
        );
    }

    #[test]
    fn hsl_converts_primary_colours() {
        assert_eq!(hsl_to_rgb(0, 100, 50), (255, 0, 0));
        assert_eq!(hsl_to_rgb(120, 100, 50), (0, 255, 0));
        assert_eq!(hsl_to_rgb(240, 100, 50), (0, 0, 255));
        assert_eq!(hsl_to_rgb(0, 0, 100), (255, 255, 255));
    }
}
