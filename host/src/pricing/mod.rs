//! The live pricing loop: the per-session coordinator ([`live::Pricer`]) that debounces
//! changes, keeps at most one `pricing.calculated` in flight per configuration, falls back
//! after the timeout and pushes every change; the organisation's price at submission and
//! auto-fill; and the SQL it owns — configuration sessions ([`sessions`]), adjustments and
//! callback tokens ([`adjustments`]), as methods of the [`Store`](crate::store::Store); and
//! what keeps it whole across replicas ([`replicas`]).

mod adjustments;
mod ask;
pub mod live;
mod replicas;
mod session_task;
mod sessions;

pub use adjustments::{Adjustment, CallbackToken, Redeemed};
pub use live::{Pricer, PricingEvent};
pub use sessions::{HistoryEntry, Session};

use ask::budget;
use live::{IDLE_EXIT, SWEEP_ABOVE};

/// How long a callback token stays valid: late answers still apply within it.
pub const CALLBACK_TOKEN_TTL_MS: i64 = 3_600_000;

use crate::catalog::{Configuration, PricingContext, PricingRequest, SessionRef, Template};
use crate::orgs::Org;

/// The request for `configuration` (of `template`) of a stored session, in `context`.
pub fn session_request(
    org: &Org,
    session: &Session,
    template: &Template,
    configuration: &Configuration,
    context: PricingContext,
) -> PricingRequest {
    let reference = SessionRef { id: session.id.clone(), origin: session.origin.clone() };
    PricingRequest::new(context, reference, template, configuration, &org.currency)
}
