/**
 * Groups API fields (group_lifecycle_update, group_participants_update,
 * group_settings_update, group_status_update): items in `value.groups[]`, routed on
 * each item's `type` (not on the field: Meta documents the routing by type). Timestamps
 * come quoted in some of Meta's examples and bare in others; both are read.
 */
import { z } from "zod";
import type { StateEffect } from "../domain/effects";
import { eachItem, hashed, unknownEvent, type NormalizedEvent, type Where } from "./normalized-event";
import { absent, lenientList, MetaError, normalizeError, phoneText, secondsToMs, unixSeconds, optionalText as text, optionalId, optionalFlag } from "./primitives";

const Participant = z.looseObject({
  wa_id: phoneText.catch(absent).optional(),
  user_id: text,
  parent_user_id: text,
  username: text,
  input: optionalId,
});

const FailedParticipant = z.looseObject({ input: optionalId, errors: lenientList(MetaError) });

/** A settings block: what was asked, and whether it took (`update_successful`). */
const SettingsBlock = z.looseObject({
  text,
  mime_type: text,
  sha256: text,
  update_successful: optionalFlag,
  errors: lenientList(MetaError),
});

export const GroupItem = z.looseObject({
  type: z.string(),
  group_id: optionalId,
  timestamp: unixSeconds,
  request_id: text,
  subject: text,
  description: text,
  invite_link: text,
  join_approval_mode: text,
  reason: text,
  initiated_by: text,
  join_request_id: optionalId,
  wa_id: phoneText.catch(absent).optional(),
  user_id: text,
  parent_user_id: text,
  username: text,
  added_participants: lenientList(Participant),
  removed_participants: lenientList(Participant),
  failed_participants: lenientList(FailedParticipant),
  group_subject: SettingsBlock.catch(absent).optional(),
  group_description: SettingsBlock.catch(absent).optional(),
  profile_picture: SettingsBlock.catch(absent).optional(),
  errors: lenientList(MetaError),
});
type GroupItem = z.infer<typeof GroupItem>;

const LIFECYCLE: Record<string, string> = { group_create: "create", group_delete: "delete" };
const PARTICIPANTS: Record<string, string> = {
  group_participants_add: "add",
  group_participants_remove: "remove",
  group_join_request_created: "join_request_created",
  group_join_request_revoked: "join_request_revoked",
};
const SUSPENDED: Record<string, boolean> = { group_suspend: true, group_suspend_cleared: false };

export function* normalizeGroups(where: Where, value: unknown): Generator<NormalizedEvent> {
  yield* eachItem(where, value, "groups", (raw) => groupEvent(where, raw));
}

function groupEvent(where: Where, raw: Record<string, unknown>): NormalizedEvent {
  const parsed = GroupItem.safeParse(raw);
  if (!parsed.success) return unknownEvent(where, raw, "group item without type");
  const g = parsed.data;
  const at = secondsToMs(g.timestamp) ?? where.entryTime;
  const known = <T>(table: Record<string, T>) => (Object.hasOwn(table, g.type) ? table[g.type] : undefined);
  const lifecycle = known(LIFECYCLE);
  if (lifecycle) return hashed(where, "group.lifecycle", at, lifecycleData(g, lifecycle), raw);
  const participants = known(PARTICIPANTS);
  if (participants) return hashed(where, "group.participants", at, participantsData(g, participants), raw);
  if (g.type === "group_settings_update") return hashed(where, "group.settings", at, settingsData(g), raw);
  const suspended = known(SUSPENDED);
  if (suspended !== undefined) return hashed(where, "group.status", at, { group_id: g.group_id ?? null, suspended }, raw, suspensionNotice(g, suspended, at));
  return unknownEvent(where, raw, `group item of type ${JSON.stringify(g.type)}`);
}

const errorsOf = (errors: GroupItem["errors"]) => (errors && errors.length > 0 ? errors.map(normalizeError) : null);

function lifecycleData(g: GroupItem, action: string) {
  return {
    group_id: g.group_id ?? null,
    action,
    request_id: g.request_id ?? null,
    subject: g.subject ?? null,
    description: g.description ?? null,
    invite_link: g.invite_link ?? null,
    join_approval_mode: g.join_approval_mode ?? null,
    errors: errorsOf(g.errors),
  };
}

function participantsData(g: GroupItem, action: string) {
  // A join request names its one user at the item's top level, not in a list.
  const listed = g.added_participants ?? g.removed_participants;
  const single = g.wa_id !== undefined || g.user_id !== undefined ? [{ wa_id: g.wa_id, user_id: g.user_id, parent_user_id: g.parent_user_id, username: g.username, input: undefined }] : [];
  return {
    group_id: g.group_id ?? null,
    action,
    reason: g.reason ?? null,
    initiated_by: g.initiated_by ?? null,
    request_id: g.request_id ?? null,
    join_request_id: g.join_request_id ?? null,
    participants: (listed ?? single).map((p) => ({
      wa_id: p.wa_id ?? null,
      user_id: p.user_id ?? null,
      parent_user_id: p.parent_user_id ?? null,
      username: p.username ?? null,
      input: p.input ?? null,
    })),
    failed_participants: (g.failed_participants ?? []).map((f) => ({ input: f.input ?? null, errors: errorsOf(f.errors) ?? [] })),
    errors: errorsOf(g.errors),
  };
}

function settingsData(g: GroupItem) {
  const block = (b: GroupItem["group_subject"], parts: Record<string, unknown>) => (b ? { ...parts, ok: b.update_successful ?? null, errors: errorsOf(b.errors) } : null);
  return {
    group_id: g.group_id ?? null,
    request_id: g.request_id ?? null,
    subject: block(g.group_subject, { text: g.group_subject?.text ?? null }),
    description: block(g.group_description, { text: g.group_description?.text ?? null }),
    picture: block(g.profile_picture, { mime_type: g.profile_picture?.mime_type ?? null, sha256: g.profile_picture?.sha256 ?? null }),
    errors: errorsOf(g.errors),
  };
}

/** Suspended or not is state judged by Meta's clock: a late "cleared" never undoes a newer suspension. */
function suspensionNotice(g: GroupItem, suspended: boolean, at: number | null): StateEffect[] {
  if (!g.group_id) return [];
  return [{ kind: "notice", subject: "group", id: g.group_id, attribute: "suspended", value: String(suspended), at, record: "always" }];
}
