-- Saved evaluation runs (综合效益评价): method, parameters, the frozen input
-- table and the result, so that `yuanjiang evaluate --rerun ID` reproduces
-- a run exactly from what was saved, whatever the data became since.
CREATE TABLE evaluation_runs (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    method      TEXT NOT NULL,
    params_json TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    result_json TEXT NOT NULL
);
