-- 0003: cloud-mode tenancy. Accounts and workspaces exist since 0001; this
-- adds workspace descriptions, users (people and service accounts),
-- memberships with roles, API keys and browser sessions. Secrets are never
-- stored: keys and session tokens as SHA-256 hashes, passwords as argon2id
-- encodings.

ALTER TABLE workspaces ADD COLUMN description TEXT NOT NULL DEFAULT '';

CREATE TABLE users (
    id             BLOB PRIMARY KEY NOT NULL,
    -- NULL for service accounts; people sign in with it.
    email          TEXT UNIQUE COLLATE NOCASE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL DEFAULT '',
    is_bot         INTEGER NOT NULL DEFAULT 0,
    bot_account_id BLOB REFERENCES accounts (id) ON DELETE CASCADE,
    created        INTEGER NOT NULL
);

CREATE TABLE account_members (
    account_id BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created    INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX account_members_user ON account_members (user_id);

CREATE TABLE workspace_members (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    created      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members (user_id);

CREATE TABLE api_keys (
    id        BLOB PRIMARY KEY NOT NULL,
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    prefix    TEXT NOT NULL,
    hash      BLOB NOT NULL UNIQUE,
    created   INTEGER NOT NULL,
    expires   INTEGER,
    last_used INTEGER
);
CREATE INDEX api_keys_user ON api_keys (user_id, created);

CREATE TABLE sessions (
    hash    BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
