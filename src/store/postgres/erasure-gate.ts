/**
 * The erasure's gate (DELETE /v1/contacts/{wa_id} on PostgreSQL). On SQLite an erasure's
 * transaction is the only writer while it runs, so a batch of processing commits wholly
 * before it (and is erased) or after it (from the bodies as the erasure left them). Here
 * instances commit at once, so the erasure takes this transaction-level advisory lock
 * exclusively and every transaction that writes a person's rows (a processing batch)
 * takes it shared, first: the two never interleave, and a batch cannot add rows about
 * the person between the erasure's reads and its deletes. Transaction-level: it dies
 * with its transaction, never outlives a connection (nor a transaction-mode pooler).
 */
import type { SQL } from "bun";

/** Two 32-bit keys: a lock space of its own, apart from the single-key locks on messages and notices. */
const GATE = [0x77615f77, 0x65726173] as const; // "wa_w", "eras"

/** A writer of a person's rows, first in its transaction: waits while an erasure runs. */
export const beforeWriting = (tx: SQL) => tx`SELECT pg_advisory_xact_lock_shared(${GATE[0]}::int4, ${GATE[1]}::int4)`;

/** The erasure, first in its transaction: waits for the writers in flight, keeps new ones out until it commits. */
export const beforeErasing = (tx: SQL) => tx`SELECT pg_advisory_xact_lock(${GATE[0]}::int4, ${GATE[1]}::int4)`;
