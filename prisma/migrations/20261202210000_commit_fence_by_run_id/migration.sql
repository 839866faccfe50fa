-- Issue #10, "how cost grows": commit_run_records' fencing lock found the run through the status index.
--
-- Its first statement was `SELECT 1 FROM etl_runs WHERE id = $run AND lease = $lease AND status =
-- 'running' FOR UPDATE`. Once the table's statistics see (almost) no `running` rows — always, after
-- an ANALYZE between bursts, since runs are running only for milliseconds — the planner estimates
-- one row for `status = 'running'` and, on a table of a few thousand rows or more, prefers the small
-- `etl_runs_status_lane_queued_at_idx` to the primary key (EXPLAIN on 200,000 runs: 6.07 against
-- 8.44). That index scan walks EVERY `running` entry, and every claim adds one (the claim's UPDATE
-- changes `status`, so it is not HOT) which stays until VACUUM removes it: the cost of each commit
-- grew with the runs claimed since the last vacuum, which autovacuum lets reach 20 % of the table.
--
-- Now the run row is locked by its id alone, so the only index that matches is the primary key,
-- and the lease and status are checked on the row locked (under READ COMMITTED, FOR UPDATE returns
-- the newest version of the row once any concurrent update committed: the same row the old
-- statement's recheck saw).
--
-- The function also returns when the run finished (`finished_at`, as stored), so the worker's metrics
-- need no query of their own per run; a changed result type needs DROP + CREATE.
DROP FUNCTION "commit_run_records"(UUID, UUID, VARCHAR(200), INTEGER, JSONB);

-- commit_run_records(run_id, lease, resource_id, resource_version, records): see
-- 20261202100000_commit_run_records for the statements' order and snapshots, unchanged here.
--
-- records: a jsonb array of {"key": text, "value": jsonb scalar, "valueType": ContextValueType}.
-- Returns one row: outcome 'written' | 'stale' | 'lease-lost', and for 'stale' the version whose
-- records are written; 'written' also says how many record rows were inserted or updated
-- (changed) and deleted; 'written' and 'stale' say when the run finished (null for 'lease-lost').
CREATE FUNCTION "commit_run_records"(
    p_run_id UUID,
    p_lease UUID,
    p_resource_id VARCHAR(200),
    p_resource_version INTEGER,
    p_records JSONB
) RETURNS TABLE ("outcome" TEXT, "newer_version" INTEGER, "changed" INTEGER, "deleted" INTEGER, "finished_at" TIMESTAMPTZ(3))
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_lease UUID;
    v_status "EtlRunStatus";
    v_advanced INTEGER;
    v_current INTEGER;
    v_changed INTEGER;
    v_deleted INTEGER;
    v_finished_at TIMESTAMPTZ(3);
BEGIN
    -- Fencing: the run must still be running under this lease. The row lock keeps the lease from
    -- changing until the commit, since every other transition of a run updates this row. Found by
    -- its id only, so by the primary key whatever the statistics say (see above).
    SELECT "lease", "status" INTO v_lease, v_status FROM "etl_runs" WHERE "id" = p_run_id FOR UPDATE;
    IF NOT FOUND OR v_lease IS DISTINCT FROM p_lease OR v_status <> 'running' THEN
        RETURN QUERY SELECT 'lease-lost'::TEXT, NULL::INTEGER, 0, 0, NULL::TIMESTAMPTZ(3);
        RETURN;
    END IF;

    -- The version guard: advances only when no newer version's records are written; its row lock
    -- serialises the commits of one resource until this transaction ends.
    INSERT INTO "context_versions" ("resource_id", "resource_version", "run_id")
    VALUES (p_resource_id, p_resource_version, p_run_id)
    ON CONFLICT ("resource_id") DO UPDATE
        SET "resource_version" = EXCLUDED."resource_version", "run_id" = EXCLUDED."run_id", "written_at" = CURRENT_TIMESTAMP
        WHERE "context_versions"."resource_version" <= EXCLUDED."resource_version"
    RETURNING "resource_version" INTO v_advanced;
    IF v_advanced IS NULL THEN
        SELECT "resource_version" INTO v_current FROM "context_versions" WHERE "resource_id" = p_resource_id;
        UPDATE "etl_runs" SET "status" = 'skipped', "finished_at" = CURRENT_TIMESTAMP, "record_count" = 0,
            "error" = 'stale: records of version ' || v_current || ' were already written', "lease" = NULL, "leased_by" = NULL
        WHERE "id" = p_run_id
        RETURNING "etl_runs"."finished_at" INTO v_finished_at;
        RETURN QUERY SELECT 'stale'::TEXT, v_current, 0, 0, v_finished_at;
        RETURN;
    END IF;

    -- Keys this version no longer has.
    DELETE FROM "context_records" c
    WHERE c."resource_id" = p_resource_id
      AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_records) r WHERE r ->> 'key' = c."key");
    GET DIAGNOSTICS v_deleted = ROW_COUNT;

    -- New keys, and keys whose value (exact JSON text) or type changed; unchanged records are not
    -- touched at all (not even locked), so a version that changes k of n leaves writes k rows.
    INSERT INTO "context_records" ("resource_id", "key", "value", "value_type", "resource_version", "run_id")
    SELECT p_resource_id, r."key", r."value", r."valueType"::"ContextValueType", p_resource_version, p_run_id
    FROM jsonb_to_recordset(p_records) AS r("key" TEXT, "value" JSONB, "valueType" TEXT)
    LEFT JOIN "context_records" c ON c."resource_id" = p_resource_id AND c."key" = r."key"
    WHERE c."key" IS NULL OR c."value"::TEXT <> r."value"::TEXT OR c."value_type"::TEXT <> r."valueType"
    ON CONFLICT ("resource_id", "key") DO UPDATE
        SET "value" = EXCLUDED."value", "value_type" = EXCLUDED."value_type",
            "resource_version" = EXCLUDED."resource_version", "run_id" = EXCLUDED."run_id"
        WHERE ("context_records"."value"::TEXT, "context_records"."value_type") IS DISTINCT FROM (EXCLUDED."value"::TEXT, EXCLUDED."value_type");
    GET DIAGNOSTICS v_changed = ROW_COUNT;

    -- The row is locked by this transaction and was checked above: its id alone finds it.
    UPDATE "etl_runs" SET "status" = 'succeeded', "finished_at" = CURRENT_TIMESTAMP, "record_count" = jsonb_array_length(p_records),
        "error" = NULL, "lease" = NULL, "leased_by" = NULL
    WHERE "id" = p_run_id
    RETURNING "etl_runs"."finished_at" INTO v_finished_at;
    RETURN QUERY SELECT 'written'::TEXT, NULL::INTEGER, v_changed, v_deleted, v_finished_at;
END;
$$;
