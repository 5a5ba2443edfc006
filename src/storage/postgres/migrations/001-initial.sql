-- The connector's own tables. pg-boss keeps its jobs in its own schema (pgboss).

-- The fingerprint of the key the secrets are encrypted with, so a wrong key is named as such.
CREATE TABLE storage_meta (
  name text PRIMARY KEY,
  value text NOT NULL
);

-- The whole record is kept as jsonb (secrets encrypted); the columns are what lists filter on.
CREATE TABLE integrations (
  consumer_key text PRIMARY KEY,
  store_base_url text NOT NULL,
  status text NOT NULL,
  user_id text,
  created_at timestamptz NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX integrations_store_base_url_idx ON integrations (store_base_url);
CREATE INDEX integrations_status_idx ON integrations (status);
CREATE INDEX integrations_user_id_idx ON integrations (user_id);

CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL,
  created_at timestamptz NOT NULL,
  record jsonb NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- seq keeps insertion order for lists (a replaced document keeps its place).
CREATE TABLE documents (
  collection text NOT NULL,
  id text NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  doc jsonb NOT NULL,
  PRIMARY KEY (collection, id)
);
CREATE INDEX documents_doc_idx ON documents USING gin (doc jsonb_path_ops);

-- sort_key orders numeric ids by value, then other ids as text (as the file store does);
-- byte order ("C") so keyset paging and the index agree.
CREATE TABLE records (
  store text NOT NULL,
  entity text NOT NULL,
  id text COLLATE "C" NOT NULL,
  sort_key text COLLATE "C" GENERATED ALWAYS AS (
    CASE WHEN id ~ '^[0-9]{1,15}$' THEN '0' || lpad(id, 15, '0') ELSE '1' || id END
  ) STORED,
  updated_at text NOT NULL,
  hash text NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (store, entity, id)
);
CREATE INDEX records_order_idx ON records (store, entity, sort_key, id);

-- connect-pg-simple's table (its table.sql), created here rather than by the store at run time.
CREATE TABLE session (
  sid varchar NOT NULL COLLATE "default" PRIMARY KEY,
  sess json NOT NULL,
  expire timestamp(6) NOT NULL
);
CREATE INDEX "IDX_session_expire" ON session (expire);
