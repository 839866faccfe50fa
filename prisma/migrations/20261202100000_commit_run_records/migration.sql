-- Issue #10: a run's commit in ONE round trip, writing only the context records that changed.
--
-- commit_run_records(run_id, lease, resource_id, resource_version, records) is what
-- packages/db/src/commitRunRecords.ts calls, once per run, outside any client-side transaction: the
-- call is one statement, so one implicit transaction. PL/pgSQL runs the statements below in order,
-- each with a fresh snapshot under READ COMMITTED (the function is VOLATILE), so the record
-- statements, which run after the version guard's row lock was granted, see every record a
-- concurrent commit of the same resource wrote before it released that lock. (Sibling CTEs of one
-- statement would share one snapshot taken before the wait, and miss those rows.)
--
-- records: a jsonb array of {"key": text, "value": jsonb scalar, "valueType": ContextValueType}.
-- Returns one row: outcome 'written' | 'stale' | 'lease-lost', and for 'stale' the version whose
-- records are written; 'written' also says how many record rows were inserted or updated
-- (changed) and deleted.
CREATE FUNCTION "commit_run_records"(
    p_run_id UUID,
    p_lease UUID,
    p_resource_id VARCHAR(200),
    p_resource_version INTEGER,
    p_records JSONB
) RETURNS TABLE ("outcome" TEXT, "newer_version" INTEGER, "changed" INTEGER, "deleted" INTEGER)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_advanced INTEGER;
    v_current INTEGER;
    v_changed INTEGER;
    v_deleted INTEGER;
BEGIN
    -- Fencing: the run must still be running under this lease. The row lock keeps the lease from
    -- changing until the commit, since every other transition of a run updates this row.
    PERFORM 1 FROM "etl_runs" WHERE "id" = p_run_id AND "lease" = p_lease AND "status" = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'lease-lost'::TEXT, NULL::INTEGER, 0, 0;
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
        WHERE "id" = p_run_id AND "lease" = p_lease;
        RETURN QUERY SELECT 'stale'::TEXT, v_current, 0, 0;
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

    UPDATE "etl_runs" SET "status" = 'succeeded', "finished_at" = CURRENT_TIMESTAMP, "record_count" = jsonb_array_length(p_records),
        "error" = NULL, "lease" = NULL, "leased_by" = NULL
    WHERE "id" = p_run_id AND "lease" = p_lease;
    RETURN QUERY SELECT 'written'::TEXT, NULL::INTEGER, v_changed, v_deleted;
END;
$$;
