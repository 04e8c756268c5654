-- Schema version 5: batches of points the server has acknowledged but not yet merged into their
-- series' chunks and tails. A batch lands here as one row (its points packed in one blob, in the
-- order they arrived), so that ingestion writes each point once instead of rewriting the tail and
-- chunk rows of every series it touches; the server merges the rows into chunks and tails in large
-- groups, and before any read (src/store/stage.c). Rows are merged in id order: a later batch's
-- point replaces an earlier one's at the same instant.
CREATE TABLE stage (
    id INTEGER PRIMARY KEY,
    n INTEGER NOT NULL,
    data BLOB NOT NULL
);
