-- The releases of a failed attempt are intents of the attempt's id, which names no
-- registration: intents refer to a registration or to an attempt.
ALTER TABLE intents DROP CONSTRAINT intents_registration_id_fkey;

-- Attempts begun before this table were registrations in 'claiming' or 'failed'. Each becomes
-- an attempt: an open one is left to the recovery worker (rolled back once its lease passed,
-- as before); a failed one keeps its failure and its releases. Their request keys move along,
-- and so do those of registrations created since the key's retention began, so that a retry
-- still answers the first registration.
INSERT INTO attempts (id, org_id, request_id, fingerprint, request, serials, state, failure, lease_until,
                      create_time, update_time)
SELECT r.id, r.org_id, k.request_id, k.fingerprint, 'null',
       COALESCE((SELECT json_agg(i.serial_number ORDER BY i.position) FROM line_items i
                 WHERE i.registration_id = r.id AND i.serial_number IS NOT NULL)::text, '[]'),
       CASE r.status WHEN 'claiming' THEN 'open' WHEN 'failed' THEN 'failed' ELSE 'completed' END,
       r.failure_reason, CASE WHEN r.status = 'claiming' THEN COALESCE(r.lease_until, 0) END,
       r.create_time, r.update_time
FROM registrations r
LEFT JOIN LATERAL (SELECT request_id, fingerprint FROM request_keys
                   WHERE org_id = r.org_id AND response = '"' || r.id || '"'
                   ORDER BY create_time LIMIT 1) k ON TRUE
WHERE r.status IN ('claiming', 'failed') OR k.request_id IS NOT NULL;

UPDATE intents SET state = 'done' WHERE kind = 'claim' AND replaces IS NULL AND state = 'pending';
DELETE FROM registration_tags WHERE registration_id IN
    (SELECT id FROM registrations WHERE status IN ('claiming', 'failed'));
DELETE FROM line_items WHERE registration_id IN
    (SELECT id FROM registrations WHERE status IN ('claiming', 'failed'));
DELETE FROM registrations WHERE status IN ('claiming', 'failed');
DROP INDEX registrations_claiming;
