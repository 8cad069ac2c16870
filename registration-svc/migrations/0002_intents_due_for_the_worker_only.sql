-- `intents_due` serves one statement, the recovery worker's pick of due releases and swap claims
-- (an attempt's own claims are re-driven with their attempt). It held every intent, so each
-- creation wrote two entries in it (its claim, and the claim closed), and PostgreSQL planned the
-- completion's closing of an attempt's claims as a bitmap AND with it: every pending claim read
-- per attempt once serial-svc had been away and thousands waited. It now holds exactly what the
-- worker reads, in the order it reads them.
DROP INDEX intents_due;
CREATE INDEX intents_due ON intents (next_attempt_time, id)
    WHERE state = 'pending' AND (kind = 'release' OR replaces IS NOT NULL);
