//! The microblog SPA: mounts the app and nothing else.

mod api;
mod app;
mod components;
mod flash;
mod lazy;
mod pages;
mod routes;
mod time;
mod validate;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
