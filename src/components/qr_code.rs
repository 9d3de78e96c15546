use leptos::prelude::*;
use qrcodegen::{QrCode as Qr, QrCodeEcc};

/// Light modules around the code, as the QR specification asks for scanners.
const QUIET_ZONE: i32 = 4;

/// `text` as a QR code: the width in modules (quiet zone included) and an SVG path of the
/// dark modules, one `h`-run per row segment. `None` if the text is too long for a QR code.
pub fn qr_path(text: &str) -> Option<(i32, String)> {
    // Bytes mode: an `otpauth://` URI has lower-case letters, so no denser mode applies,
    // and the encoder for the other modes stays out of the bundle.
    let qr = Qr::encode_binary(text.as_bytes(), QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let mut d = String::new();
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < size && qr.get_module(x, y) {
                x += 1;
            }
            let run = x - start;
            d.push_str(&format!(
                "M{} {}h{run}v1h-{run}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE
            ));
        }
    }
    Some((size + 2 * QUIET_ZONE, d))
}

/// A QR code drawn in the browser as SVG, so what it encodes (a TOTP secret) never goes to
/// a QR service (docs/security.md, "Two-factor authentication"). Colours are attributes,
/// not styles, for the CSP; dark on light whatever the colour scheme, as scanners expect.
#[component]
pub fn QrCode(
    /// What the code encodes.
    text: String,
    /// What it is, for screen readers.
    label: &'static str,
) -> impl IntoView {
    qr_path(&text).map(|(width, d)| {
        view! {
            <svg
                class="qr-code"
                viewBox=format!("0 0 {width} {width}")
                role="img"
                aria-label=label
                shape-rendering="crispEdges"
            >
                <rect width="100%" height="100%" fill="#fff"></rect>
                <path d=d fill="#000"></path>
            </svg>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_draws_runs_of_dark_modules_inside_the_quiet_zone() {
        let (width, d) = qr_path("otpauth://totp/Microblog:susan?secret=JBSWY3DPEHPK3PXP").unwrap();
        // Version 4 at the least (33 modules) for this length, plus 4 on each side.
        assert!(width >= 33 + 8, "{width}");
        // The top-left finder pattern starts with a run of 7 dark modules at (4, 4).
        assert!(d.starts_with("M4 4h7v1h-7z"), "{}", &d[..20]);
        assert!(!d.contains("style"));
    }

    #[test]
    fn text_too_long_for_any_qr_code_is_refused() {
        assert!(qr_path(&"x".repeat(3000)).is_none());
    }
}
