-- 0007: teams, invitations, password resets, session listing and TOTP
-- (issue 13). Tokens are kept only as SHA-256 hashes, TOTP secrets sealed.

CREATE TABLE teams (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created     bigint NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE team_members (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created bigint NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE team_workspaces (
    team_id      uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role         text NOT NULL,
    PRIMARY KEY (team_id, workspace_id)
);
CREATE INDEX team_workspaces_ws ON team_workspaces (workspace_id);

CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email       text NOT NULL,
    role        text NOT NULL,
    team_id     uuid REFERENCES teams (id) ON DELETE SET NULL,
    inviter_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    hash        bytea NOT NULL UNIQUE,
    created     bigint NOT NULL,
    expires     bigint NOT NULL,
    accepted    bigint,
    accepted_by uuid,
    revoked     bigint
);
CREATE INDEX invitations_account ON invitations (account_id, created);

CREATE TABLE password_resets (
    hash    bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created bigint NOT NULL,
    expires bigint NOT NULL,
    used    bigint
);
CREATE INDEX password_resets_user ON password_resets (user_id);

ALTER TABLE sessions ADD COLUMN id uuid;
UPDATE sessions SET id = gen_random_uuid();
CREATE UNIQUE INDEX sessions_id ON sessions (id);
ALTER TABLE sessions ADD COLUMN source_addr text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN totp_secret bytea;
ALTER TABLE users ADD COLUMN totp_enabled boolean NOT NULL DEFAULT false;
CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    bytea NOT NULL,
    PRIMARY KEY (user_id, hash)
);
