-- Schema version 2: targets, reviews with action items, annotations.
-- Dates are day numbers (days since 1970-01-01), as in the core library.
CREATE TABLE target (
    id INTEGER PRIMARY KEY,
    kpi_id INTEGER NOT NULL REFERENCES kpi (id) ON DELETE CASCADE,
    baseline REAL NOT NULL,
    baseline_day INTEGER NOT NULL,
    value REAL,
    day INTEGER NOT NULL,
    low REAL,
    high REAL,
    at_risk_pct REAL NOT NULL,
    UNIQUE (kpi_id, day)
);

-- A review is a dated check-in on a KPI (kpi_id) or on a team's scorecard (team).
CREATE TABLE review (
    id INTEGER PRIMARY KEY,
    kpi_id INTEGER REFERENCES kpi (id) ON DELETE CASCADE,
    team TEXT,
    day INTEGER NOT NULL,
    note TEXT NOT NULL,
    author TEXT,
    created_ms INTEGER NOT NULL,
    CHECK (kpi_id IS NOT NULL OR team IS NOT NULL)
);
CREATE INDEX review_kpi ON review (kpi_id, day);

CREATE TABLE action (
    id INTEGER PRIMARY KEY,
    review_id INTEGER NOT NULL REFERENCES review (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    owner TEXT,
    due_day INTEGER,
    done_ms INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE INDEX action_owner ON action (owner, done_ms);

-- Context on the time line (a price change, a holiday); kpi_id NULL marks the whole organisation.
CREATE TABLE annotation (
    id INTEGER PRIMARY KEY,
    kpi_id INTEGER REFERENCES kpi (id) ON DELETE CASCADE,
    day INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX annotation_day ON annotation (kpi_id, day);
