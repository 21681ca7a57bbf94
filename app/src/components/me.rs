//! Who is signed in, for the parts of a page only some users see. The server decides what
//! each user may do; these only leave out forms a user could not use.

use leptos::prelude::*;

use crate::server_fns::console::current_user;
use crate::types::Me;

/// The signed-in user, as a page loads it.
pub type MeResource = Resource<Result<Me, ServerFnError>>;

/// Loads the signed-in user with the page.
pub fn signed_in() -> MeResource {
    Resource::new(|| (), |_| current_user())
}

/// Whether the signed-in user is an admin; not when the user cannot be loaded.
pub async fn is_admin(me: MeResource) -> bool {
    me.await.is_ok_and(|m| m.is_admin)
}

/// `children` when the signed-in user is one `who` accepts; nothing otherwise, nor while
/// the user loads.
#[component]
pub fn OnlyFor(me: MeResource, who: fn(&Me) -> bool, children: ChildrenFn) -> impl IntoView {
    view! {
        <Suspense>
            {move || {
                let children = children.clone();
                Suspend::new(async move { me.await.ok().filter(who).map(|_| children()) })
            }}
        </Suspense>
    }
}
