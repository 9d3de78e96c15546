//! The microblog SPA: mounts the app and nothing else.

mod api;
mod app;
mod components;
mod flash;
mod lazy;
mod linkify;
mod nav;
mod pages;
mod routes;
mod storage;
mod time;
mod validate;

fn main() {
    // Readable panics while developing. A release build aborts on a panic (panic = "abort")
    // and leaves the hook, and the formatting it pulls in, out of the first download.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
