//! A list that grows page by page: "More" appends the next page (asked for with `after`,
//! the cursor of the last item shown) and keeps everything already on screen.

use futures::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::Page;

use crate::api::ApiError;
use crate::components::ListStatus;

type Fetch<T> = Box<dyn Fn(Option<String>) -> LocalBoxFuture<'static, Result<Page<T>, ApiError>>>;

/// The items shown so far and where the list stands. Copy: every field is a handle.
pub struct Pager<T: Send + Sync + 'static> {
    pub items: RwSignal<Vec<T>>,
    pub status: RwSignal<ListStatus>,
    fetch: StoredValue<Fetch<T>, LocalStorage>,
    cursor: fn(&T) -> String,
    /// Bumped on every reload, so a late answer for an old list is dropped.
    generation: StoredValue<u64>,
}

impl<T: Send + Sync + 'static> Clone for Pager<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Pager<T> {}

impl<T: Clone + Send + Sync + 'static> Pager<T> {
    /// Creates the list and loads its first page.
    pub fn new<F>(fetch: F, cursor: fn(&T) -> String) -> Self
    where
        F: Fn(Option<String>) -> LocalBoxFuture<'static, Result<Page<T>, ApiError>> + 'static,
    {
        let pager = Self {
            items: RwSignal::new(Vec::new()),
            status: RwSignal::new(ListStatus::Loading),
            fetch: StoredValue::new_local(Box::new(fetch)),
            cursor,
            generation: StoredValue::new(0),
        };
        pager.load(None);
        pager
    }

    /// The next page, or, after a failure, the page that failed.
    pub fn more(&self) {
        let after = self
            .items
            .with_untracked(|items| items.last().map(self.cursor));
        self.load(after);
    }

    fn load(&self, after: Option<String>) {
        if self.status.get_untracked() == ListStatus::Loading && after.is_some() {
            return;
        }
        self.status.set(ListStatus::Loading);
        let generation = self.generation.get_value();
        let request = self.fetch.with_value(|fetch| fetch(after));
        let this = *self;
        spawn_local(async move {
            let result = request.await;
            if this.generation.try_get_value() != Some(generation) {
                return;
            }
            match result {
                Ok(page) => {
                    let has_more = page.pagination.has_more();
                    this.items.update(|items| items.extend(page.data));
                    this.status.set(ListStatus::Ready { has_more });
                }
                Err(err) => this.status.set(ListStatus::Failed(err)),
            }
        });
    }

    /// Adds an item on top (a post just written).
    pub fn prepend(&self, item: T) {
        self.items.update(|items| items.insert(0, item));
    }

    /// Drops the items matching `which` (a post just deleted).
    pub fn remove(&self, which: impl Fn(&T) -> bool) {
        self.items.update(|items| items.retain(|item| !which(item)));
    }
}
