-- 0020: run tags in their own indexed tables, and one redundant index fewer.
--
-- A tag filter on flow_runs or task_runs used json_each over every row's
-- tags column: with a tag only a few runs carry, a listing read the whole
-- workspace to find them (issue 12). flow_run_tags and task_run_tags hold
-- one row per (run, tag), keyed so that the runs of a tag are one index
-- range. Triggers keep them in step with the tags column on every path that
-- writes runs (inserts, updates that change the tags, deletes including
-- foreign-key cascades and retention), so no Go code can forget them; the
-- tags column stays the runs' source of truth and the bodies are unchanged.

CREATE TABLE flow_run_tags (
    workspace_id BLOB NOT NULL,
    tag          TEXT NOT NULL,
    run_id       BLOB NOT NULL,
    PRIMARY KEY (workspace_id, tag, run_id)
) WITHOUT ROWID;

CREATE TABLE task_run_tags (
    workspace_id BLOB NOT NULL,
    tag          TEXT NOT NULL,
    run_id       BLOB NOT NULL,
    PRIMARY KEY (workspace_id, tag, run_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO flow_run_tags (workspace_id, tag, run_id)
SELECT fr.workspace_id, j.value, fr.id FROM flow_runs fr, json_each(fr.tags) j WHERE j.type = 'text';
INSERT OR IGNORE INTO task_run_tags (workspace_id, tag, run_id)
SELECT tr.workspace_id, j.value, tr.id FROM task_runs tr, json_each(tr.tags) j WHERE j.type = 'text';

CREATE TRIGGER flow_run_tags_insert AFTER INSERT ON flow_runs WHEN new.tags <> '[]' BEGIN
    INSERT OR IGNORE INTO flow_run_tags (workspace_id, tag, run_id)
    SELECT new.workspace_id, j.value, new.id FROM json_each(new.tags) j WHERE j.type = 'text';
END;
CREATE TRIGGER flow_run_tags_update AFTER UPDATE OF tags ON flow_runs WHEN old.tags IS NOT new.tags BEGIN
    DELETE FROM flow_run_tags WHERE workspace_id = old.workspace_id AND run_id = old.id
        AND tag IN (SELECT j.value FROM json_each(old.tags) j);
    INSERT OR IGNORE INTO flow_run_tags (workspace_id, tag, run_id)
    SELECT new.workspace_id, j.value, new.id FROM json_each(new.tags) j WHERE j.type = 'text';
END;
CREATE TRIGGER flow_run_tags_delete AFTER DELETE ON flow_runs WHEN old.tags <> '[]' BEGIN
    DELETE FROM flow_run_tags WHERE workspace_id = old.workspace_id AND run_id = old.id
        AND tag IN (SELECT j.value FROM json_each(old.tags) j);
END;

CREATE TRIGGER task_run_tags_insert AFTER INSERT ON task_runs WHEN new.tags <> '[]' BEGIN
    INSERT OR IGNORE INTO task_run_tags (workspace_id, tag, run_id)
    SELECT new.workspace_id, j.value, new.id FROM json_each(new.tags) j WHERE j.type = 'text';
END;
CREATE TRIGGER task_run_tags_update AFTER UPDATE OF tags ON task_runs WHEN old.tags IS NOT new.tags BEGIN
    DELETE FROM task_run_tags WHERE workspace_id = old.workspace_id AND run_id = old.id
        AND tag IN (SELECT j.value FROM json_each(old.tags) j);
    INSERT OR IGNORE INTO task_run_tags (workspace_id, tag, run_id)
    SELECT new.workspace_id, j.value, new.id FROM json_each(new.tags) j WHERE j.type = 'text';
END;
CREATE TRIGGER task_run_tags_delete AFTER DELETE ON task_runs WHEN old.tags <> '[]' BEGIN
    DELETE FROM task_run_tags WHERE workspace_id = old.workspace_id AND run_id = old.id
        AND tag IN (SELECT j.value FROM json_each(old.tags) j);
END;

-- Every sort the UI and the client send gets an index that yields it in
-- order, tie-breaker (id) included, so a page of 50 reads 50 index entries
-- instead of sorting the workspace (measured in TestFilterPlans). The
-- expected-start index gains the id (without it SQLite preferred sorting a
-- covering index whole); name, end time and next scheduled start had none.
DROP INDEX flow_runs_ws_expected;
CREATE INDEX flow_runs_ws_expected_sort ON flow_runs (workspace_id, expected_start_time, id);
CREATE INDEX flow_runs_ws_name_sort ON flow_runs (workspace_id, name, id);
CREATE INDEX flow_runs_ws_end_sort ON flow_runs (workspace_id, end_time, id);
CREATE INDEX flow_runs_ws_next_sort ON flow_runs (workspace_id, next_scheduled_start_time, id);
