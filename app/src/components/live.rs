//! Live data: a counter that ticks in the browser (never on the server), for resources
//! that refetch themselves.

use leptos::prelude::*;

/// Goes up every `ms` milliseconds once hydrated; stops when the owner is cleaned up.
pub fn ticker(ms: u64) -> RwSignal<u32> {
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || tick.update(|n| *n += 1),
            std::time::Duration::from_millis(ms),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ms;
    tick
}
