//! Building blocks that take props and render them. None of them calls the API: pages load
//! data and hand it down, and get user intent back through callbacks.

mod avatar;
mod field;
mod flash_list;
mod header;
mod list_footer;
mod post;
mod post_form;
mod profile;
mod qr_code;
mod security;
mod time_ago;
mod user_list;

pub use avatar::Avatar;
pub use field::{Field, FieldKind, FormAlert, Loading};
pub use flash_list::FlashList;
pub use header::Header;
pub use list_footer::{ListFooter, ListStatus};
pub use post::PostList;
pub use post_form::PostForm;
pub use profile::{Profile, ProfileTabs, UserTab};
pub use qr_code::QrCode;
pub use security::{RecoveryCodeList, SessionList};
pub use time_ago::{Clock, TimeAgo};
pub use user_list::UserList;

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
