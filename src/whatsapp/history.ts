/**
 * `history` (coexistence): the chats a WhatsApp Business app user had before onboarding,
 * sent in chunks. Each chunk is one `history.sync` (its phase and progress, or the error
 * saying history sync is off) and each of its messages one `history.message`. Past
 * messages are not live traffic: they carry no state effects (no tracking, contact,
 * fallback or alert moves).
 */
import { z } from "zod";
import { deeperThan } from "../util/json-depth";
import { messageData } from "./message-data";
import { InboundMessage } from "./messages";
import { base, guarded, hashOf, isRecord, unknownEvent, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, lenientList, MetaError, normalizeError, phoneText, secondsToMs } from "./primitives";
import { displayDigits } from "./phone";

/** phase, chunk_order and progress: integers in Meta's example, read from digit strings too. */
const int = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).catch(absent).optional();

const Chunk = z.looseObject({
  metadata: z.looseObject({ phase: int, chunk_order: int, progress: int }).catch(absent).optional(),
  threads: z.array(z.unknown()).catch(absent).optional(),
  errors: lenientList(MetaError),
});
type Chunk = z.infer<typeof Chunk>;

const Thread = z.looseObject({
  id: phoneText.catch(absent).optional(),
  messages: z.array(z.unknown()).catch(absent).optional(),
  context: z.looseObject({ wa_id: phoneText.catch(absent).optional(), user_id: z.string().catch(absent).optional() }).catch(absent).optional(),
});

const Ends = z.looseObject({ from: phoneText.catch(absent).optional(), to: phoneText.catch(absent).optional() });

/**
 * The chat a late media message belongs to, which no thread names: the user it was sent
 * to when the business sent it (`from` is the business's number), else its sender.
 */
function threadOfLate(where: Where, raw: unknown): string | null {
  const ends = Ends.safeParse(raw).data;
  const business = where.displayPhoneNumber === null ? null : displayDigits(where.displayPhoneNumber);
  if (ends?.from !== undefined && ends.from !== null && ends.from !== business) return ends.from;
  return ends?.to ?? null;
}

const HistoryContext = z.looseObject({ history_context: z.looseObject({ status: z.string().catch(absent).optional() }).catch(absent).optional() });

interface Progress {
  phase: number | null;
  chunk_order: number | null;
  progress: number | null;
}

export function* normalizeHistory(where: Where, value: unknown): Generator<NormalizedEvent> {
  // Media of a past message comes later in a webhook of its own: messages[] without a chunk.
  if (isRecord(value) && value.history === undefined && Array.isArray(value.messages)) {
    for (const raw of value.messages) yield guarded(where, raw, () => historyMessage(where, raw, threadOfLate(where, raw), { phase: null, chunk_order: null, progress: null }));
    return;
  }
  const items = isRecord(value) ? value.history : undefined;
  if (!Array.isArray(items)) return yield unknownEvent(where, value, items === undefined ? "history value without history or messages" : "history is not an array");
  for (const raw of items) yield* chunkEvents(where, raw);
}

function* chunkEvents(where: Where, raw: unknown): Generator<NormalizedEvent> {
  if (deeperThan(raw)) return yield unknownEvent(where, raw);
  const parsed = Chunk.safeParse(raw);
  if (!isRecord(raw) || !parsed.success) return yield unknownEvent(where, raw, "item is not an object");
  const chunk = parsed.data;
  const progress: Progress = { phase: chunk.metadata?.phase ?? null, chunk_order: chunk.metadata?.chunk_order ?? null, progress: chunk.metadata?.progress ?? null };
  const threads = (chunk.threads ?? []).map((t) => Thread.safeParse(t).data).filter((t) => t !== undefined);
  yield guarded(where, raw, () => syncEvent(where, raw, chunk, progress, threads.reduce((n, t) => n + (t.messages?.length ?? 0), 0)));
  for (const thread of threads) {
    const id = thread.id ?? thread.context?.wa_id ?? thread.context?.user_id ?? null;
    for (const message of thread.messages ?? []) yield guarded(where, message, () => historyMessage(where, message, id, progress));
  }
}

/**
 * The chunk itself. Its `raw` leaves out the threads' messages: each is its own
 * history.message with its own raw, and a chunk holds thousands (the inbox keeps the
 * POST whole). Its key covers the whole chunk as sent.
 */
function syncEvent(where: Where, raw: Record<string, unknown>, chunk: Chunk, progress: Progress, messages: number): NormalizedEvent {
  const threads = Array.isArray(raw.threads) ? raw.threads.map((t) => (isRecord(t) ? (({ messages: _, ...rest }) => rest)(t) : t)) : raw.threads;
  const data = { ...progress, threads: chunk.threads?.length ?? 0, messages, errors: chunk.errors && chunk.errors.length > 0 ? chunk.errors.map(normalizeError) : null };
  // A chunk is named by its metadata (phase, chunk_order) and never sent twice on purpose:
  // re-batched under another entry.time, it is one event. An error chunk has no metadata:
  // the same error notified again later is a new occurrence.
  const named = progress.chunk_order !== null || progress.phase !== null;
  return base(where, "history.sync", `hash:${hashOf(where, raw, named)}`, where.entryTime, data, raw.threads === undefined ? raw : { ...raw, threads }, []);
}

/**
 * One past message, read like a live one (the same `data` for its kind), in a key space
 * of its own: a message seen live and again in history is one message.received and one
 * history.message. The kind is in the key because a media message first comes as a
 * `media_placeholder` and later, under the same wamid, with its media.
 */
function historyMessage(where: Where, raw: unknown, thread: string | null, progress: Progress): NormalizedEvent {
  const message = InboundMessage.safeParse(raw);
  if (!message.success) return unknownEvent(where, raw, "message without id or type");
  const { data } = messageData(message.data, undefined);
  const status = HistoryContext.safeParse(raw).data?.history_context?.status ?? null;
  const out = { ...data, thread, history_status: status, ...progress };
  return base(where, "history.message", `history:${message.data.id}:${message.data.type}`, secondsToMs(message.data.timestamp), out, raw, []);
}
