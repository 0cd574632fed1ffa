//! An HTTP server on a task of its own that stops gracefully: the integration API and the
//! admin endpoint are each one.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// A server, running.
pub struct Served {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Binds `listen` (port 0 picks a free one) and serves `app` until stopped; `what`
    /// names it in the log.
    pub async fn start(
        listen: SocketAddr,
        app: Router,
        what: &'static str,
    ) -> std::io::Result<Served> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("{what} stopped: {e}");
            }
        });
        tracing::info!("{what} listens on http://{addr}");
        Ok(Served { addr, stop, task })
    }

    /// Stops taking connections and lets the requests in hand finish.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
