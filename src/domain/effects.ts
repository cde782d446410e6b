import type { IdentityLink } from "./identity";

/** What an event means for the state we keep (messages, contacts, templates, notices judged by Meta's clock). Pure data: normalization makes them, storage engines apply them. */

export type StateEffect =
  | { kind: "contact"; waId: string; seenAt: number | null }
  | { kind: "inbound"; wamid: string; sender: string | null; messageKind: string; sentAt: number | null }
  | {
      kind: "status";
      wamid: string;
      status: string;
      statusAt: number | null;
      recipientId: string | null;
      phoneNumberId: string | null;
      errors: unknown[] | null;
      pricing: Record<string, unknown> | null;
      bizOpaque: string | null;
      /** A 1:1 message to a user: not a group send (one status per participant), a payment or a call. */
      oneToOne: boolean;
    }
  | { kind: "template"; templateId: string; name: string | null; language: string | null; category: string | null }
  /** A number or user id change: the ids are one person (domain/identity.ts). */
  | { kind: "identity"; link: IdentityLink }
  | Notice;

/**
 * A value Meta tells us about (a template's status, a contact's opt-out…), with the
 * time Meta says it happened: applied only if not older than the value it would
 * replace (store/event-store.ts), kept in the history either way.
 */
export interface Notice {
  kind: "notice";
  subject: "template" | "contact" | "phone_number" | "group" | "account";
  id: string;
  attribute: "status" | "quality" | "category" | "marketing_opt_out" | "profile_name" | "messaging_limit" | "suspended" | "username" | "username_status" | "ban" | "connection";
  value: string | null;
  at: number | null;
  /**
   * "changes": only a value different from the current one is written (a profile name
   * is repeated by every message, it is not news); "always": every notice is history.
   */
  record: "always" | "changes";
}
