-- 0021: the last TOTP time step a user signed in with, so that a code is
-- accepted once (RFC 6238 §5.2: a verifier must not accept the same
-- one-time password twice), even within its 30-second window.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
