//! Waiting for a delivery to reach a final state.

use crate::{DeliveryStatus, Error, WaitOptions, WebhookDeliveryDetails, Webhooks};

impl Webhooks {
    /// Polls a delivery at the interval of `wait` until it reaches a final state and returns it;
    /// fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when the timeout of `wait`
    /// passes first.
    ///
    /// A delivery is final once it is no longer `pending` (queued or being sent) and no longer
    /// `failed` (a retry is still to come): `success`, `permanently_failed`, `filtered`,
    /// `endpoint_disabled`, and any state a server adds later, since only those two mean more
    /// work. Works against the production service as against the emulator; there, pick an
    /// interval of a second or more and a timeout that covers the retries you expect (Wacht
    /// retries after 30 s, 60 s, 5 min, 15 min, then every 6 h).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use wacht_webhooks::WaitOptions;
    /// # async fn run(webhooks: wacht_webhooks::Webhooks) -> Result<(), wacht_webhooks::Error> {
    /// let wait = WaitOptions::new().poll_interval(Duration::from_secs(1)).timeout(Duration::from_secs(120));
    /// let delivery = webhooks.wait_for_delivery("billing", "7291834471203418112", wait).await?;
    /// println!("{}: HTTP {:?}", delivery.status, delivery.http_status_code);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_delivery(
        &self,
        app_slug: &str,
        delivery_id: &str,
        wait: WaitOptions,
    ) -> Result<WebhookDeliveryDetails, Error> {
        let poller = wait.start();
        loop {
            let delivery = self.get_webhook_delivery(app_slug, delivery_id).await?;
            if is_final(&delivery.status) {
                return Ok(delivery);
            }
            if let Err(expired) = poller.pause().await {
                return Err(Error::timeout(
                    "wait_for_delivery",
                    format!(
                        "delivery {delivery_id} of app {app_slug} still {} after attempt {} of {}, after {:?}",
                        delivery.status,
                        delivery.attempt_number,
                        delivery.max_attempts,
                        expired.timeout
                    ),
                ));
            }
        }
    }
}

/// Only `pending` and `failed` promise more work; every other state, known or new, is final.
fn is_final(status: &DeliveryStatus) -> bool {
    !matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed)
}
