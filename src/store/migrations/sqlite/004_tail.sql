-- Schema version 4: the newest points of each series, apart from its chunks. A write of a few
-- points to each of many series (a collector's batch: every KPI at the same instant) would
-- otherwise rewrite the last chunk of every series, one 16 KiB page each; tails are small (at most
-- KPI_TAIL_MAX points) and many share a page. Every point of a tail is later than every point of
-- its series' chunks; a full tail is folded into the chunks (src/store/sqlite.c).
CREATE TABLE tail (
    kpi_id INTEGER NOT NULL,
    dims_id INTEGER NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (kpi_id, dims_id)
) WITHOUT ROWID;
