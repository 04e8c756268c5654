-- Schema version 3: API tokens for machines. Only a hash of each token is kept (BLAKE2b-256 of the
-- whole token text); the token itself is shown once when it is created.
CREATE TABLE token (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    hash BLOB NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL
);
