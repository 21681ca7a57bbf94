//! [`backend_tests!`](crate::backend_tests): one `#[tokio::test]` per backend.

/// Turns each `async fn name(arg: Fixture) { body }` into a module `name` holding the
/// tests `sqlite` and `postgres`, each running `body` on a fixture started on that
/// backend, so `cargo test` prints `approvals::approve_then_run::sqlite ... ok` and
/// `approvals::approve_then_run::postgres ... FAILED` and one backend's failure never
/// hides the other's result. Attributes and doc comments go on the module.
///
/// Each test runs on a multi-threaded runtime of two workers, as `arx serve` does on this
/// machine kind: the servers a test starts share its runtime, and a single-threaded one
/// is a configuration production never has (Leptos' streamed pages have been seen to stall
/// on one worker, leptos-rs/leptos#4647).
///
/// rustfmt does not enter macro calls, so `cargo fmt` leaves the bodies as written. They
/// are kept as rustfmt would lay out a `mod` at the same place: to reformat them, rename
/// `backend_tests! {` to `mod __backend_tests {` in the file, run `cargo fmt`, rename back.
///
/// ```ignore
/// arx_testkit::backend_tests! {
///     /// A reviewer's approval runs the call.
///     async fn approve_then_run(s: TestServer) {
///         let (status, _) = s.execute(&key, call).await;
///         assert_eq!(status, 202, "{}", s.backend);
///     }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    () => {};
    (
        $(#[$attr:meta])*
        async fn $name:ident($arg:ident : $fixture:ty $(,)?) $body:block
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($arg: $fixture) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(<$fixture as $crate::Fixture>::start($crate::Backend::Sqlite).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::Backend::Postgres.available() {
                    run(<$fixture as $crate::Fixture>::start($crate::Backend::Postgres).await)
                        .await
                }
            }
        }

        $crate::backend_tests! { $($rest)* }
    };
}
