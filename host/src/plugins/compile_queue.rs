//! The compile queue: one FIFO per organisation; the next compilation comes from the
//! organisation served least recently. With one compilation at a time, an organisation's
//! uploads delay another's by at most the compilation already running, however many it
//! queues. Each queued version knows its position.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::{Notify, oneshot};

/// One compilation to do.
#[derive(Debug)]
pub struct Job {
    /// Whose upload it is (its queue).
    pub org_id: String,
    /// The version compiled.
    pub version_id: String,
    /// SHA-256 of its component.
    pub sha256: String,
    /// Whether the version awaits its first compilation (its status follows the job); a
    /// version already `ready` whose artifact this process lacks is compiled without that.
    pub first: bool,
    /// Told how it ended (a run waiting for the component).
    pub done: Option<oneshot::Sender<Result<(), String>>>,
}

/// The queue. Shared by the uploads that push and the compile loops that pop.
#[derive(Default)]
pub struct CompileQueue {
    state: Mutex<State>,
    pushed: Notify,
}

#[derive(Default)]
struct State {
    jobs: HashMap<String, VecDeque<Job>>,
    /// When each organisation was last served (a growing counter; never served: 0).
    served: HashMap<String, u64>,
    /// Pushes so far: orders organisations served equally long ago by who queued first.
    pushes: u64,
    /// Push number of each organisation's oldest waiting job.
    since: HashMap<String, u64>,
    picks: u64,
}

impl CompileQueue {
    /// Queues a job behind its organisation's others.
    pub fn push(&self, job: Job) {
        let mut state = self.lock();
        state.pushes += 1;
        let pushes = state.pushes;
        state.since.entry(job.org_id.clone()).or_insert(pushes);
        state.jobs.entry(job.org_id.clone()).or_default().push_back(job);
        drop(state);
        self.pushed.notify_one();
    }

    /// The next job, waiting for one.
    pub async fn next(&self) -> Job {
        loop {
            let pushed = self.pushed.notified();
            if let Some(job) = self.lock().pop() {
                return job;
            }
            pushed.await;
        }
    }

    /// 1 for the job that runs next, 2 after it, …; `None` if `version_id` is not queued.
    pub fn position(&self, version_id: &str) -> Option<usize> {
        let state = self.lock();
        let mut order: Vec<(u64, u64, &str, &VecDeque<Job>)> = state
            .jobs
            .iter()
            .map(|(org, jobs)| (state.served_at(org), state.since[org], org.as_str(), jobs))
            .collect();
        let mut taken: HashMap<&str, usize> = HashMap::new();
        let mut clock = state.picks;
        for position in 1.. {
            order.sort_by_key(|(served, since, ..)| (*served, *since));
            let (served, _, org, jobs) = order
                .iter_mut()
                .find(|(_, _, org, jobs)| taken.get(org).copied().unwrap_or(0) < jobs.len())?;
            let index = taken.entry(org).or_insert(0);
            if jobs[*index].version_id == version_id {
                return Some(position);
            }
            *index += 1;
            clock += 1;
            *served = clock;
        }
        None
    }

    /// Jobs waiting.
    pub fn len(&self) -> usize {
        self.lock().jobs.values().map(VecDeque::len).sum()
    }

    /// No job waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    fn served_at(&self, org: &str) -> u64 {
        self.served.get(org).copied().unwrap_or(0)
    }

    /// Takes the oldest job of the organisation served least recently.
    fn pop(&mut self) -> Option<Job> {
        let org =
            self.jobs.keys().min_by_key(|org| (self.served_at(org), self.since[*org]))?.clone();
        let jobs = self.jobs.get_mut(&org).expect("a queue of this organisation");
        let job = jobs.pop_front().expect("queues are never left empty");
        if jobs.is_empty() {
            self.jobs.remove(&org);
            self.since.remove(&org);
        } else {
            self.pushes += 1;
            self.since.insert(org.clone(), self.pushes);
        }
        self.picks += 1;
        self.served.insert(org, self.picks);
        Some(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(org: &str, version: &str) -> Job {
        Job {
            org_id: org.into(),
            version_id: version.into(),
            sha256: String::new(),
            first: true,
            done: None,
        }
    }

    /// An organisation that queues five compilations holds back another's by one at most.
    #[tokio::test]
    async fn a_flooding_organisation_waits_its_turn() {
        let queue = CompileQueue::default();
        for n in 1..=5 {
            queue.push(job("a", &format!("a{n}")));
        }
        assert_eq!(queue.next().await.version_id, "a1", "running");
        queue.push(job("b", "b1"));
        queue.push(job("b", "b2"));
        assert_eq!(queue.position("b1"), Some(1));
        assert_eq!(queue.position("a2"), Some(2));
        assert_eq!(queue.position("b2"), Some(3));
        assert_eq!(queue.position("a5"), Some(6));
        assert_eq!(queue.position("nope"), None);
        let order: Vec<String> =
            [(); 6].iter().map(|_| queue.lock().pop().unwrap().version_id).collect();
        assert_eq!(order, ["b1", "a2", "b2", "a3", "a4", "a5"]);
    }
}
