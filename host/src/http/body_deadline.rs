//! A deadline on a whole request body.
//!
//! tower-http's `RequestBodyTimeoutLayer` restarts its timer at every frame, so a client
//! trickling a byte just inside it holds the handler (and its connection) for as long as the
//! body is long. Here the deadline is fixed when the request head has arrived: the body
//! arrives by then or reading it fails with [`BodyTimedOut`], which the handlers' extractors
//! turn into `408 request_timeout` ([`crate::http::error::ApiError::RequestTimeout`]).
//!
//! The timer is armed only when a read finds the body not there yet; a body already in the
//! buffer (the common case: it came with the head) never touches it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::BoxError;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep, sleep_until};

pin_project! {
    /// `body`, failing with [`BodyTimedOut`] if it is still arriving at its deadline.
    pub struct DeadlineBody<B> {
        #[pin]
        body: B,
        #[pin]
        timer: Option<Sleep>,
        deadline: Instant,
        timeout: Duration,
    }
}

impl<B> DeadlineBody<B> {
    /// `body`, due within `timeout` from now.
    pub fn new(body: B, timeout: Duration) -> Self {
        Self { body, timer: None, deadline: Instant::now() + timeout, timeout }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if let Poll::Ready(frame) = this.body.poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if this.timer.is_none() {
            this.timer.set(Some(sleep_until(*this.deadline)));
        }
        match this.timer.as_pin_mut().map(|timer| timer.poll(cx)) {
            Some(Poll::Ready(())) => {
                Poll::Ready(Some(Err(Box::new(BodyTimedOut { timeout: *this.timeout }))))
            }
            _ => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The request body did not arrive within `request_body_timeout`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {timeout:?}")]
pub struct BodyTimedOut {
    /// The configured limit.
    pub timeout: Duration,
}

impl BodyTimedOut {
    /// Whether `err` or anything in its source chain is a [`BodyTimedOut`] (extractor
    /// rejections wrap body errors a few layers deep).
    pub fn caused(err: &(dyn std::error::Error + 'static)) -> bool {
        std::iter::successors(Some(err), |err| err.source())
            .any(|err| err.downcast_ref::<BodyTimedOut>().is_some())
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use axum::body::Body as AxumBody;

    use super::*;

    async fn next_frame<B: Body + Unpin>(body: &mut B) -> Option<Result<Frame<B::Data>, B::Error>> {
        poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
    }

    #[tokio::test]
    async fn a_body_still_arriving_at_its_deadline_fails() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, BoxError>>(1);
        let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let start = Instant::now();
        let mut body =
            Box::pin(DeadlineBody::new(AxumBody::from_stream(stream), Duration::from_millis(300)));
        tx.send(Ok("a".into())).await.unwrap();
        assert!(next_frame(&mut body).await.unwrap().is_ok());
        let err = next_frame(&mut body).await.unwrap().unwrap_err();
        assert!(BodyTimedOut::caused(&*err), "{err}");
        assert!(start.elapsed() >= Duration::from_millis(300), "failed before its deadline");
        drop(tx);
    }

    #[tokio::test]
    async fn a_complete_body_never_times_out() {
        let mut body =
            Box::pin(DeadlineBody::new(AxumBody::from("done"), Duration::from_millis(1)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let frame = next_frame(&mut body).await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "done");
    }
}
