//! The replay runner: works through a replay task's deliveries one by one, in the background.

use std::sync::Arc;
use std::time::Duration;

use crate::delivery::Engine;
use crate::store::{ReplayItem, Store};

/// Starts replay tasks and drives them to completion or cancellation.
#[derive(Clone)]
pub struct Replayer {
    store: Arc<Store>,
    engine: Engine,
    item_delay: Duration,
    queue_delay: Duration,
}

impl Replayer {
    /// A runner that waits `item_delay` between items (zero: it only yields to other work) and
    /// takes `queue_delay` to queue a task.
    pub fn new(
        store: Arc<Store>,
        engine: Engine,
        item_delay: Duration,
        queue_delay: Duration,
    ) -> Self {
        Self {
            store,
            engine,
            item_delay,
            queue_delay,
        }
    }

    /// The time queuing a replay request takes (none by default).
    pub async fn queue_pause(&self) {
        if !self.queue_delay.is_zero() {
            // A shutdown cuts the wait short; the request still gets its answer.
            self.engine.sleep(self.queue_delay).await;
        }
    }

    /// Runs a queued task in the background.
    pub fn start(&self, task_id: i64) {
        let runner = self.clone();
        self.engine.spawn(async move { runner.run(task_id).await });
    }

    async fn run(&self, task_id: i64) {
        // Let the request that queued the task answer before the task starts.
        tokio::task::yield_now().await;
        let Some(items) = self.store.start_replay_task(task_id) else {
            return;
        };
        for original in items {
            if self.engine.is_stopping() {
                return;
            }
            match self.store.replay_item(task_id, original) {
                ReplayItem::Stop => return,
                ReplayItem::Replayed(new_id) => self.engine.dispatch(new_id),
                ReplayItem::Skipped => {}
            }
            if !self.pause().await {
                return;
            }
        }
        self.store.complete_replay_task(task_id);
    }

    /// Gives other work a turn between items; `false` when shutdown began.
    async fn pause(&self) -> bool {
        if self.item_delay.is_zero() {
            tokio::task::yield_now().await;
            true
        } else {
            self.engine.sleep(self.item_delay).await
        }
    }
}
