-- Webhook event ids already claimed by a job (dedupe of at-least-once deliveries); pruned by age.
CREATE TABLE webhook_events (
  store text NOT NULL,
  event_id text NOT NULL,
  job_id text NOT NULL,
  claimed_at timestamptz NOT NULL,
  applied boolean NOT NULL DEFAULT false,
  PRIMARY KEY (store, event_id)
);
CREATE INDEX webhook_events_claimed_at_idx ON webhook_events (claimed_at);
