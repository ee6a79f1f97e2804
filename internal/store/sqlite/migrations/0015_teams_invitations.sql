-- 0015: teams, invitations, password resets, session listing and TOTP
-- (issue 13). Tokens are kept only as SHA-256 hashes, TOTP secrets sealed.

CREATE TABLE teams (
    id          BLOB PRIMARY KEY NOT NULL,
    account_id  BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created     INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE team_members (
    team_id BLOB NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE team_workspaces (
    team_id      BLOB NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    PRIMARY KEY (team_id, workspace_id)
);
CREATE INDEX team_workspaces_ws ON team_workspaces (workspace_id);

CREATE TABLE invitations (
    id          BLOB PRIMARY KEY NOT NULL,
    account_id  BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    team_id     BLOB REFERENCES teams (id) ON DELETE SET NULL,
    inviter_id  BLOB REFERENCES users (id) ON DELETE SET NULL,
    hash        BLOB NOT NULL UNIQUE,
    created     INTEGER NOT NULL,
    expires     INTEGER NOT NULL,
    accepted    INTEGER,
    accepted_by BLOB,
    revoked     INTEGER
);
CREATE INDEX invitations_account ON invitations (account_id, created);

CREATE TABLE password_resets (
    hash    BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    used    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);

ALTER TABLE sessions ADD COLUMN id BLOB;
UPDATE sessions SET id = randomblob(16);
CREATE UNIQUE INDEX sessions_id ON sessions (id);
ALTER TABLE sessions ADD COLUMN source_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN totp_secret BLOB;
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
CREATE TABLE recovery_codes (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    PRIMARY KEY (user_id, hash)
);
