-- Schema version 1: organisation settings, KPI definitions, dimension sets and points.
CREATE TABLE org (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    fiscal_year_start INTEGER NOT NULL CHECK (fiscal_year_start BETWEEN 1 AND 12)
);
INSERT INTO org (id, name, timezone, fiscal_year_start) VALUES (1, 'My organisation', 'UTC', 1);

CREATE TABLE kpi (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    unit TEXT,
    format TEXT NOT NULL,
    decimals INTEGER NOT NULL,
    direction TEXT NOT NULL,
    aggregation TEXT NOT NULL,
    granularity TEXT NOT NULL,
    formula TEXT,
    tier TEXT NOT NULL,
    indicator TEXT NOT NULL,
    owner TEXT,
    team TEXT,
    parent TEXT,
    weight REAL NOT NULL,
    review_cadence TEXT NOT NULL,
    visibility TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- Canonical dimension sets (see include/kpi/dims.h); id 0 is the empty set.
CREATE TABLE dims (
    id INTEGER PRIMARY KEY,
    canon TEXT NOT NULL UNIQUE
);
INSERT INTO dims (id, canon) VALUES (0, '');

-- Points, in chunks of up to a few hundred per row (see src/store/chunk.h): a point is unique on
-- (kpi, dims, at), writing it again replaces the value. `start` and `last` are the instants (ms) of
-- the first and last point of the chunk; chunks of one series never overlap. A rowid table (not
-- WITHOUT ROWID) keeps blobs of a few KiB inside their B-tree page instead of overflow pages, and
-- appends rewritten chunks at the end of the table.
CREATE TABLE chunk (
    id INTEGER PRIMARY KEY,
    kpi_id INTEGER NOT NULL,
    dims_id INTEGER NOT NULL,
    start INTEGER NOT NULL,
    last INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (kpi_id, dims_id, start)
);
