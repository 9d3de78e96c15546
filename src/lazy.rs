//! Pages (and page parts) that a first visit never shows live in their own wasm chunks,
//! fetched the first time they are needed, so the first download stays small.
//!
//! [`split!`] declares such a piece. With the cargo feature `split` (only the release
//! pipeline, `cargo xtask build`, turns it on) it is a split point of `wasm_split`, the
//! machinery behind Leptos's `#[lazy]`: a wasm import that only `wasm-split-cli` resolves,
//! so a build with the feature must go through the splitter. Without the feature
//! (`trunk serve`, the wasm tests, native checks) the same code is in the one wasm module
//! and every page behaves the same, minus the wait.
//!
//! Not `#[lazy]` or `#[lazy_route]` themselves: there a chunk that fails to load panics,
//! which aborts the whole app (panic = "abort"), and `ProtectedRoute` takes a plain view
//! function, not a `LazyRoute`. Here a failure is an `Err` that [`deferred`] shows with a
//! retry button.
//!
//! A split function hands back a plain function pointer into its chunk, and the view is
//! built by the ordinary render code (a signal changes, a closure re-runs): no `Suspense`,
//! no futures in the view tree.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::Loading;

/// A chunk that could not be fetched or instantiated (offline, or a deploy replaced it);
/// the browser console has the details.
#[derive(Clone, Copy, Debug)]
pub struct ChunkFailed;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkFailed {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkFailed
    }
}

/// Renders a lazily loaded piece with its arguments.
pub type Render<A> = fn(A) -> AnyView;

/// `split!(pub fn load / prefetch in chunk: Args = render);` declares
/// `async fn load() -> Result<fn(Args) -> AnyView, ChunkFailed>`, which fetches `chunk`
/// (once) and answers `render`, and `async fn prefetch()`, which only fetches it. Every
/// piece naming the same chunk shares its wasm file.
///
/// `split!(pub fn load / prefetch in chunk -> T = value);` is the same for any `T` that
/// hands out code of the chunk (a struct of function pointers, say): `load` answers `value`.
macro_rules! split {
    (
        $(#[$meta:meta])*
        $vis:vis fn $load:ident / $prefetch:ident in $chunk:ident: $args:ty = $render:expr
    ) => {
        $crate::lazy::split!(
            $(#[$meta])*
            $vis fn $load / $prefetch in $chunk -> $crate::lazy::Render<$args> = $render
        );
    };
    (
        $(#[$meta:meta])*
        $vis:vis fn $load:ident / $prefetch:ident in $chunk:ident -> $ret:ty = $value:expr
    ) => {
        #[cfg(feature = "split")]
        #[::leptos::wasm_split::wasm_split(
            $chunk,
            wasm_split_path = ::leptos::wasm_split,
            fallible,
            preload(#[allow(dead_code)] $prefetch)
        )]
        $(#[$meta])*
        $vis fn $load() -> ::std::result::Result<$ret, $crate::lazy::ChunkFailed> {
            ::std::result::Result::Ok($value)
        }

        #[cfg(not(feature = "split"))]
        $(#[$meta])*
        $vis async fn $load() -> ::std::result::Result<$ret, $crate::lazy::ChunkFailed> {
            ::std::result::Result::Ok($value)
        }

        #[cfg(not(feature = "split"))]
        #[allow(dead_code)]
        $vis async fn $prefetch() -> ::std::result::Result<(), ::leptos::wasm_split::SplitLoaderError> {
            ::std::result::Result::Ok(())
        }
    };
}
pub(crate) use split;

/// A route's view that lives in a chunk: `lazy_page!(load_fn)` for the router.
macro_rules! lazy_page {
    ($load:path) => {
        (|| $crate::lazy::deferred(|| ::futures::FutureExt::boxed_local($load()), (), false))
            as fn() -> ::leptos::prelude::AnyView
    };
}
pub(crate) use lazy_page;

type Loaded = Rc<dyn Fn() -> AnyView>;
type Fetch = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Loaded, ChunkFailed>>>>>;

/// A piece's `load` function behind one type, boxed: [`deferred`] is then compiled once per
/// type of arguments, not once per piece.
pub type Load<A> = fn() -> LocalBoxFuture<'static, Result<Render<A>, ChunkFailed>>;

/// What `load` renders with `args`, once its chunk is here: a loading line meanwhile, and
/// if the chunk cannot be fetched, an error with a button that tries again (a failed load
/// is not remembered, so the retry fetches anew). `part`: a piece of a page, whose error
/// gets a sub-heading rather than the page's heading. Pass `|| load_x().boxed_local()`.
pub fn deferred<A: Clone + 'static>(load: Load<A>, args: A, part: bool) -> AnyView {
    let fetch: Fetch = Rc::new(move || {
        let args = args.clone();
        Box::pin(async move {
            let render = load().await?;
            Ok(Rc::new(move || render(args.clone())) as Loaded)
        })
    });
    deferred_view(fetch, part)
}

/// The part of [`deferred`] that does not depend on the piece: compiled once.
fn deferred_view(fetch: Fetch, part: bool) -> AnyView {
    // Local (not `Send`) values behind `Copy` handles, as the view's closures must be `Send`.
    let fetch = StoredValue::new_local(fetch);
    let state = RwSignal::new_local(None::<Result<Loaded, ChunkFailed>>);
    let start = move || {
        let Some(fetch) = fetch.try_get_value() else {
            return;
        };
        let mut pending = fetch();
        // A chunk fetched before (or a build without chunks): render at once, with no
        // loading line in between.
        if let Some(result) = (&mut pending).now_or_never() {
            state.set(Some(result));
            return;
        }
        spawn_local(async move {
            let result = pending.await;
            // The piece may have left the screen meanwhile: then nobody is waiting.
            let _ = state.try_set(Some(result));
        });
    };
    start();
    let retry = move || {
        state.set(None);
        start();
    };
    (move || match state.get() {
        None => view! { <Loading /> }.into_any(),
        Some(Ok(render)) => render(),
        Some(Err(ChunkFailed)) => chunk_error(part, retry),
    })
    .into_any()
}

/// What `load` renders with `args`, for an optional part at the end of a page: nothing until
/// its chunk is here (no loading line, and nothing moves when it arrives, as nothing follows
/// it), and nothing if the chunk cannot be fetched (the page works without the part; the
/// next visit to the page tries again). Pass `|| load_x().boxed_local()`.
///
/// The chunk is asked for only once the page has been painted: its fetches (the chunk and
/// the chunks it shares code with, a few milliseconds of the main thread each on a slow
/// phone) would otherwise hold back the page they come after.
pub fn optional<A: Clone + 'static>(load: Load<A>, args: A) -> AnyView {
    let render = RwSignal::new_local(None::<Render<A>>);
    after_paint(move || {
        spawn_local(async move {
            if let Ok(loaded) = load().await {
                // The page may have gone meanwhile.
                let _ = render.try_set(Some(loaded));
            }
        })
    });
    let args = StoredValue::new_local(args);
    (move || render.get().map(|render| render(args.get_value()))).into_any()
}

/// Runs `f` once the browser has painted what is rendered now: an animation frame's
/// callbacks run just before its paint, and a zero timeout set from one runs after it.
/// For work that must not stand between a page and its first appearance.
pub fn after_paint(f: impl FnOnce() + 'static) {
    request_animation_frame(move || set_timeout(f, std::time::Duration::ZERO));
}

fn chunk_error(part: bool, retry: impl Fn() + Copy + Send + 'static) -> AnyView {
    const TITLE: &str = "This part of the app could not be loaded";
    let title = if part {
        view! { <h2>{TITLE}</h2> }.into_any()
    } else {
        view! { <h1 tabindex="-1">{TITLE}</h1> }.into_any()
    };
    view! {
        <div class="narrow chunk-error">
            {title}
            <p role="alert">
                "It did not arrive: the connection may have dropped, or a new version of the "
                "app was just published. Nothing you saved is lost."
            </p>
            <button type="button" class="primary" on:click=move |_| retry()>
                "Try again"
            </button>
        </div>
    }
    .into_any()
}
