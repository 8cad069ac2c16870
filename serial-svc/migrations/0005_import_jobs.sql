-- Bulk import (ImportSerials). A job's row says exactly which rows of its file are committed:
-- each batch of serials is inserted in the same transaction that moves `committed_line` and the
-- counters, and adds the batch's failed rows (the first 1,000) to import_job_errors.
-- `owner` is the runner (one upload) allowed to write the job: a newer upload with the same id
-- takes it over, and a runner whose conditional update finds another owner stops. A runner
-- writes at least every few seconds (`heartbeat_time`); a RUNNING job silent for longer is
-- reported FAILED and resumed by the next upload.
CREATE TABLE import_jobs (
    org_id          TEXT {{COLLATE "C" |}}NOT NULL,
    id              TEXT {{COLLATE "C" |}}NOT NULL,
    header          TEXT   NOT NULL,
    state           TEXT   NOT NULL,
    owner           TEXT   NOT NULL,
    rows_read       BIGINT NOT NULL DEFAULT 0,
    rows_created    BIGINT NOT NULL DEFAULT 0,
    rows_failed     BIGINT NOT NULL DEFAULT 0,
    committed_line  BIGINT NOT NULL DEFAULT 1,
    failure_reason  TEXT,
    failure_line    BIGINT NOT NULL DEFAULT 0,
    create_time     BIGINT NOT NULL,
    update_time     BIGINT NOT NULL,
    heartbeat_time  BIGINT NOT NULL,
    run_start_time  BIGINT NOT NULL,
    run_start_rows  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id)
);

-- ListImportJobs: newest first
CREATE INDEX import_jobs_by_time ON import_jobs (org_id, create_time, id);

CREATE TABLE import_job_errors (
    org_id        TEXT {{COLLATE "C" |}}NOT NULL,
    job_id        TEXT {{COLLATE "C" |}}NOT NULL,
    line          BIGINT NOT NULL,
    serial_number TEXT   NOT NULL,
    reason        TEXT   NOT NULL,
    message       TEXT   NOT NULL,
    PRIMARY KEY (org_id, job_id, line)
);

-- The import job that created the serial (NULL for every other way): a row whose serial exists
-- from an earlier row of the same file is a duplicate in the file, not one that already existed,
-- however many runs the job took. No index: it is read only for rows that met a conflict.
ALTER TABLE serials ADD COLUMN import_job TEXT;
